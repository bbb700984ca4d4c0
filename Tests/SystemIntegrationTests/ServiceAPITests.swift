import CommonClient
import Contract
import Foundation
import NIOHTTP1
import Postgres
import TestSupport
import Testing

/// The HTTP contract of both services (docs/contract.md#http), through real HTTP, where it depends on
/// the database or crosses processes; the checks of the HTTP layer alone (400s, 404s, problem
/// bodies) run without servers in HTTPContractTests.
@Suite("HTTP API", .timeLimit(.minutes(2)))
struct ServiceAPITests {
    @Test("an order for a customer OrderService does not know is a 422 problem ending in unknown-customer")
    func unknownCustomer() async throws {
        try await withSystem { system in
            let response = try await send(
                .POST, system.orderServiceURL, path: "/orders",
                body: #"{"customerId": "\#(UUID().uuidString.lowercased())", "amount": 100}"#
            )
            #expect(response.status == 422)
            #expect(response.headers.first(name: "Content-Type") == "application/problem+json")
            #expect((response.json["type"] as? String)?.hasSuffix("unknown-customer") == true)
            #expect(response.json["status"] as? Int == 422)
        }
    }

    @Test("a second customer with the same email (any case) is a 409 problem")
    func duplicateEmail() async throws {
        try await withSystem { system in
            _ = try await system.clients.createCustomer(name: "Ada", email: "ada@example.com", creditLimit: nil)
            let response = try await send(
                .POST, system.customerServiceURL, path: "/customers", body: #"{"name": "Ada 2", "email": "ADA@example.com"}"#)
            #expect(response.status == 409)
            #expect((response.json["type"] as? String)?.hasSuffix("email-taken") == true)
        }
    }

    @Test("X-Request-ID is returned as sent, or generated, and follows the record into the outbox and the replica")
    func requestID() async throws {
        try await withSystem { system in
            let sent = try await send(
                .POST, system.customerServiceURL, path: "/customers",
                body: #"{"name": "Grace", "email": "grace@example.com"}"#, headers: [("X-Request-ID", "trace-me-42")]
            )
            #expect(sent.status == 201)
            #expect(sent.headers.first(name: "X-Request-ID") == "trace-me-42")
            #expect(sent.headers.first(name: "Location")?.hasPrefix("/customers/") == true)
            let id = try #require(sent.json["id"] as? String)

            let outboxRequestID = try await system.withDatabase(.customerService) { database in
                try await database.query("SELECT request_id FROM outbox").first?.decode(0, as: String?.self)
            }
            #expect(outboxRequestID == "trace-me-42")
            try await expectEventually { try await system.clients.replicaCustomer(id: id) != nil }
            #expect(try await system.clients.replicaCustomer(id: id)?.value2.requestId == "trace-me-42")

            let generated = try await send(.GET, system.customerServiceURL, path: "/health/live")
            let generatedID = try #require(generated.headers.first(name: "X-Request-ID"))
            #expect(UUID(uuidString: generatedID) != nil)
        }
    }

    @Test("the same Idempotency-Key twice gives one record and one event; with another body it is a 422")
    func idempotencyKey() async throws {
        try await withSystem { system in
            let body = #"{"name": "Linus", "email": "linus@example.com", "creditLimit": 100}"#
            let key = [("Idempotency-Key", "key-\(system.id)")]
            let first = try await send(.POST, system.customerServiceURL, path: "/customers", body: body, headers: key)
            let second = try await send(.POST, system.customerServiceURL, path: "/customers", body: body, headers: key)
            #expect(first.status == 201)
            #expect(second.status == 201)
            #expect(first.json["id"] as? String == second.json["id"] as? String)
            #expect(first.json["createdAt"] as? String == second.json["createdAt"] as? String)

            let other = try await send(
                .POST, system.customerServiceURL, path: "/customers",
                body: #"{"name": "Linus", "email": "other@example.com"}"#, headers: key
            )
            #expect(other.status == 422)
            #expect((other.json["type"] as? String)?.hasSuffix("idempotency-key-reused") == true)

            let (customers, events) = try await system.withDatabase(.customerService) { database in
                (
                    try await database.query("SELECT count(*) FROM customers")[0].decode(0, as: Int64.self),
                    try await database.query("SELECT count(*) FROM outbox")[0].decode(0, as: Int64.self)
                )
            }
            #expect(customers == 1)
            #expect(events == 1)
        }
    }

    @Test("lists page with an opaque cursor and end with next: null")
    func paging() async throws {
        try await withSystem { system in
            let created = try await system.createCustomers(5, prefix: "c")
            var seen: [String] = []
            var after: String?
            repeat {
                let page = try await system.clients.customers(limit: 2, after: after)
                seen += page.items.map(\.id)
                after = page.next
            } while after != nil
            #expect(seen == created)
            let last = try await send(.GET, system.customerServiceURL, path: "/customers?limit=1000")
            #expect(last.json["next"] is NSNull, "the last page says next: null")
            let bad = try await send(.GET, system.customerServiceURL, path: "/customers?after=garbage")
            #expect(bad.status == 400)
            #expect(bad.invalidParameterNames == ["after"])
        }
    }

    @Test("health answers on both listeners; the operations and metrics only on the admin listener")
    func operationalEndpoints() async throws {
        try await withSystem { system in
            for service in [ServiceName.customerService, .orderService] {
                let url = service == .customerService ? system.customerServiceURL : system.orderServiceURL
                let admin = system.adminURL(service)
                for base in [url, admin] {
                    #expect(try await send(.GET, base, path: "/health/live").status == 200)
                    let ready = try await send(.GET, base, path: "/health/ready")
                    #expect(ready.status == 200)
                    #expect((ready.json["database"] as? [String: Any])?["status"] as? String == "up")
                }
                for path in ["/replication/status", "/metrics", "/trace/abc", "/replication/dead-letters", "/replication/digest?table=own"] {
                    #expect(try await send(.GET, url, path: path).status == 404, "\(path) is not on the public port")
                }
                let status = try await send(.GET, admin, path: "/replication/status", headers: TestSystem.authorization)
                #expect(status.status == 200)
                for key in ["outbox", "consumer", "replica", "source"] { #expect(status.json[key] != nil, "\(key)") }
                let metrics = try await send(.GET, admin, path: "/metrics")
                #expect(metrics.status == 200, "the scrape needs no token")
                #expect(String(decoding: metrics.body, as: UTF8.self).contains("http_requests_total"))
            }
        }
    }

    @Test("an operation without the token, or with another, is a 401 problem asking for a bearer token")
    func operationsNeedTheToken() async throws {
        try await withSystem { system in
            let admin = system.customerServiceAdminURL
            let attempts: [[(String, String)]] = [
                [], [("Authorization", "Bearer wrong-token-of-some-length")], [("Authorization", "Basic dXNlcjpwYXNz")],
                [("Authorization", "Bearer " + TestSystem.operationsToken + "x")], [("Authorization", "Bearer ")],
            ]
            for headers in attempts {
                for (method, path, body) in [
                    (HTTPMethod.GET, "/replication/status", nil), (.POST, "/replication/dead-letters/discard", #"{"all": true}"#),
                    (.POST, "/replication/resync", #"{"subscriber": "order-service"}"#), (.GET, "/trace/abc", nil),
                ] as [(HTTPMethod, String, String?)] {
                    let response = try await send(method, admin, path: path, body: body, headers: headers)
                    #expect(response.status == 401, "\(method) \(path) with \(headers.map(\.0))")
                    #expect(response.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
                    #expect(response.headers.first(name: "Content-Type") == "application/problem+json")
                }
            }
            let lowercase = [("authorization", "bearer " + TestSystem.operationsToken)]
            #expect(try await send(.GET, admin, path: "/replication/status", headers: lowercase).status == 200)
        }
    }
}
