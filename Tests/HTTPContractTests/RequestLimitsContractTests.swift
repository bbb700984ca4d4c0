import Foundation
import Testing

@testable import CustomerService
@testable import OrderService

/// The limits (docs/design.md#limits) at router level, each a finding of a new user: bodies over 64 KiB,
/// over-long headers, control characters and lengths counted in Unicode scalars.
@Suite("Request limits (router level)")
struct RequestLimitsContractTests {
    let customers = InMemoryCustomerStore()
    let orders = InMemoryOrderStore()

    var customerClient: RouterClient {
        get throws { RouterClient(router: try buildCustomerRouter(customers: customers, logger: RouterClient.logger)) }
    }
    var orderClient: RouterClient {
        get throws { RouterClient(router: try buildOrderRouter(orders: orders, logger: RouterClient.logger)) }
    }

    /// A customer body whose name is `name` (already JSON-escaped).
    static func customer(name: String) -> String {
        #"{"name": "\#(name)", "email": "a@example.com"}"#
    }

    @Test("a body over 64 KiB is a 413 problem, at either service, and nothing is stored")
    func bodyTooLarge() async throws {
        let padding = String(repeating: " ", count: 64 * 1024)
        for (client, path) in [(try customerClient, "/customers"), (try orderClient, "/orders")] {
            let response = try await client.send(.post, path, body: padding + Self.customer(name: "Ada"))
            #expect(response.status == 413, "\(path)")
            #expect(response.contentType == "application/problem+json")
            #expect(response.problemType?.hasSuffix("body-too-large") == true)
        }
        #expect(customers.all.isEmpty)
        // Exactly at the limit is not too large (the name is what is wrong then).
        let body = Self.customer(name: "")
        let atLimit = try await customerClient.send(.post, "/customers", body: String(repeating: " ", count: 64 * 1024 - body.utf8.count) + body)
        #expect(atLimit.status == 400)
    }

    @Test(
        "an Idempotency-Key or X-Request-ID over 200 characters is a 400 problem naming the header", arguments: ["Idempotency-Key", "X-Request-ID"])
    func longHeader(header: String) async throws {
        let long = String(repeating: "k", count: 201)
        let response = try await customerClient.send(.post, "/customers", body: Self.customer(name: "Ada"), headers: [header: long])
        expectInvalidParameters(response, [header])
        #expect(customers.all.isEmpty)
        let fits = try await customerClient.send(
            .post, "/customers", body: Self.customer(name: "Ada"), headers: [header: String(repeating: "k", count: 200)])
        #expect(fits.status == 201)
    }

    @Test("a NUL in a name is a 400 naming the field, not a record cut at the NUL (found by a new user)")
    func nulInName() async throws {
        expectInvalidBody(try await customerClient.send(.post, "/customers", body: Self.customer(name: #"x\u0000y"#)), naming: "name")
        #expect(customers.all.isEmpty)
    }

    @Test("one letter with 300 combining marks is a 400: the limit counts Unicode scalars, not graphemes (found by a new user)")
    func combiningMarks() async throws {
        let name = "a" + String(repeating: #"\u0301"#, count: 300)
        expectInvalidBody(try await customerClient.send(.post, "/customers", body: Self.customer(name: name)), naming: "name")
        #expect(customers.all.isEmpty)
    }
}
