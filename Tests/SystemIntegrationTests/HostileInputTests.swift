import Foundation
import TestSupport
import Testing

/// The findings of "hostile input", each tried against the running services as a new user did.
@Suite("Hostile input (running services)")
struct HostileInputTests {
    @Test("NUL in a name, a letter with 2,000 combining marks, a 5,000-character Idempotency-Key: 400s naming what is wrong; nothing stored")
    func refusedWithTheirReason() async throws {
        try await withSystem { system in
            let url = system.customerServiceURL
            let nul = try await send(.POST, url, path: "/customers", body: #"{"name": "x\u0000y", "email": "nul@example.com"}"#)
            #expect(nul.status == 400)
            #expect(nul.invalidParameterNames == ["name"])
            let marks = "a" + String(repeating: #"\u0301"#, count: 2000)
            let combining = try await send(.POST, url, path: "/customers", body: #"{"name": "\#(marks)", "email": "marks@example.com"}"#)
            #expect(combining.status == 400)
            #expect(combining.invalidParameterNames == ["name"])
            let key = try await send(
                .POST, url, path: "/customers", body: #"{"name": "Key", "email": "key@example.com"}"#,
                headers: [("Idempotency-Key", String(repeating: "k", count: 5000))])
            #expect(key.status == 400)
            #expect(key.invalidParameterNames == ["Idempotency-Key"])
            let page = try await system.clients.customers(limit: 10, after: nil)
            #expect(page.items.isEmpty, "nothing was stored")
        }
    }

    @Test("an Idempotency-Key that is empty, not visible ASCII, or over 200 bytes in few characters is a 400; nothing stored")
    func idempotencyKeyInBytes() async throws {
        try await withSystem { system in
            let marks = "k" + String(repeating: "\u{0301}", count: 5000)
            for key in ["", " ", "key with spaces", "ключ", marks, String(repeating: "k", count: 201)] {
                let response = try await send(
                    .POST, system.customerServiceURL, path: "/customers", body: #"{"name": "Key", "email": "key@example.com"}"#,
                    headers: [("Idempotency-Key", key)])
                #expect(response.status == 400, "\(key.utf8.count) bytes")
                #expect(response.invalidParameterNames == ["Idempotency-Key"])
            }
            let fits = try await send(
                .POST, system.customerServiceURL, path: "/customers", body: #"{"name": "Key", "email": "key@example.com"}"#,
                headers: [("Idempotency-Key", String(repeating: "k", count: 200))])
            #expect(fits.status == 201)
            #expect(try await system.clients.customers(limit: 10, after: nil).items.count == 1)
        }
    }

    @Test("a 2 MiB body is a 413 problem, and the service goes on")
    func bodyTooLarge() async throws {
        try await withSystem { system in
            let padding = String(repeating: " ", count: 2 << 20)
            let response = try await send(
                .POST, system.customerServiceURL, path: "/customers", body: padding + #"{"name": "Big", "email": "big@example.com"}"#)
            #expect(response.status == 413)
            #expect(response.headers.first(name: "Content-Type") == "application/problem+json")
            let customer = try await system.clients.createCustomer(name: "After", email: "after@example.com", creditLimit: nil)
            #expect(customer.name == "After")
        }
    }
}
