import Contract
import Foundation
import Testing

@testable import CustomerService

/// CustomerService's HTTP contract (docs/contract.md#http) at router level: status codes, problem+json
/// bodies and headers, with the service's real router and handlers over an in-memory store.
/// No server, database or broker runs.
@Suite("CustomerService HTTP contract (router level)")
struct CustomerAPIContractTests {
    let store = InMemoryCustomerStore()

    var client: RouterClient {
        get throws { RouterClient(router: try buildCustomerRouter(customers: store, logger: RouterClient.logger)) }
    }

    @Test("a created customer is a 201 with the record, a Location header and the X-Request-ID")
    func created() async throws {
        let response = try await client.send(
            .post, "/customers", body: #"{"name": " Grace ", "email": "grace@example.com"}"#, headers: ["X-Request-ID": "trace-me-42"]
        )
        #expect(response.status == 201)
        let id = try #require(response.json["id"] as? String)
        #expect(response.headers[.location] == "/customers/\(id)")
        #expect(response.headers[.init("X-Request-ID")!] == "trace-me-42")
        #expect(response.json["name"] as? String == "Grace", "the name is trimmed")
        #expect(response.json["creditLimit"] as? Int == 0, "the credit limit defaults to 0")
        #expect(response.json["version"] as? Int == 1, "a new record is version 1")
        #expect(response.json["updatedAt"] as? String == response.json["createdAt"] as? String)
        #expect(response.headers[.eTag] == #""1""#, "the ETag is the version")
        #expect(store.all.count == 1)
        let fetched = try await client.send(.get, "/customers/\(id)")
        #expect(fetched.headers[.eTag] == #""1""#)
        #expect(fetched.json["version"] as? Int == 1)
    }

    @Test(
        "invalid bodies are a 400 problem naming the field",
        arguments: [
            (#"{"email": "a@example.com"}"#, "name"),
            (#"{"name": "", "email": "a@example.com"}"#, "name"),
            (#"{"name": "A", "email": "not-an-email"}"#, "email"),
            (#"{"name": "A", "email": "a@example.com", "creditLimit": -1}"#, "creditLimit"),
            (#"{"name": "A", "email": "a@example.com", "creditLimit": "lots"}"#, "creditLimit"),
            ("not json", "body"),
        ]
    )
    func invalidBodies(body: String, field: String) async throws {
        expectInvalidBody(try await client.send(.post, "/customers", body: body), naming: field)
        #expect(store.all.isEmpty)
    }

    @Test("a second customer with the same email (any case) is a 409 problem")
    func duplicateEmail() async throws {
        let client = try client
        #expect(try await client.send(.post, "/customers", body: #"{"name": "Ada", "email": "ada@example.com"}"#).status == 201)
        let response = try await client.send(.post, "/customers", body: #"{"name": "Ada 2", "email": "ADA@example.com"}"#)
        #expect(response.status == 409)
        #expect(response.contentType == "application/problem+json")
        #expect(response.problemType?.hasSuffix("email-taken") == true)
        #expect(response.json["status"] as? Int == 409)
    }

    @Test("the same Idempotency-Key twice answers the first record; with another body it is a 422 problem")
    func idempotencyKey() async throws {
        let client = try client
        let body = #"{"name": "Linus", "email": "linus@example.com", "creditLimit": 100}"#
        let first = try await client.send(.post, "/customers", body: body, headers: ["Idempotency-Key": "k-1"])
        let second = try await client.send(.post, "/customers", body: body, headers: ["Idempotency-Key": "k-1"])
        #expect(first.status == 201)
        #expect(second.status == 201)
        #expect(first.json["id"] as? String == second.json["id"] as? String)
        let other = try await client.send(
            .post, "/customers", body: #"{"name": "Linus", "email": "o@example.com"}"#, headers: ["Idempotency-Key": "k-1"])
        #expect(other.status == 422)
        #expect(other.problemType?.hasSuffix("idempotency-key-reused") == true)
        #expect(store.all.count == 1)
    }

    @Test("unknown ids are 404 problems; malformed ids are 400s naming the id")
    func notFound() async throws {
        let client = try client
        let id = UUID().uuidString.lowercased()
        for path in ["/customers/\(id)", "/replica/orders/\(id)", "/customers/\(id)/orders"] {
            let response = try await client.send(.get, path)
            #expect(response.status == 404, "\(path)")
            #expect(response.contentType == "application/problem+json")
            #expect(response.problemType?.hasSuffix("not-found") == true)
        }
        expectInvalidParameters(try await client.send(.get, "/customers/42"), ["id"])
    }

    @Test("lists page with an opaque cursor, end with next: null, and refuse a bad cursor or limit")
    func paging() async throws {
        let client = try client
        for index in 0..<3 {
            #expect(try await client.send(.post, "/customers", body: #"{"name": "C\#(index)", "email": "c\#(index)@example.com"}"#).status == 201)
        }
        let first = try await client.send(.get, "/customers?limit=2")
        #expect((first.json["items"] as? [Any])?.count == 2)
        let next = try #require(first.json["next"] as? String)
        let last = try await client.send(.get, "/customers?limit=2&after=\(next)")
        #expect((last.json["items"] as? [Any])?.count == 1)
        #expect(last.json["next"] is NSNull, "the last page says next: null")
        expectInvalidParameters(try await client.send(.get, "/customers?after=garbage"), ["after"])
        expectInvalidParameters(try await client.send(.get, "/customers?limit=0"), ["limit"])
    }

    /// Creates the customer Ada; returns her id.
    static func createAda(_ client: RouterClient) async throws -> UUID {
        let created = try await client.send(.post, "/customers", body: #"{"name": "Ada", "email": "ada@example.com"}"#)
        let createdId = try #require(created.json["id"] as? String)
        return try #require(UUID(uuidString: createdId))
    }

    @Test("a customer's orders and a replicated order come from the replica, with their replica metadata")
    func replicaReads() async throws {
        let client = try client
        let customerId = try await Self.createAda(client)
        let order = OrderRecord(id: UUID(), customerId: customerId, amount: 1250, createdAt: Date(timeIntervalSince1970: 1_800_000_000))
        store.replicaOrders.replicate(order)
        let orders = try await client.send(.get, "/customers/\(customerId.lowercased)/orders")
        #expect(orders.status == 200)
        let items = try #require(orders.json["items"] as? [[String: Any]])
        let ids = items.map { $0["id"] as? String }
        #expect(ids == [order.id.lowercased])
        let replicated = try await client.send(.get, "/replica/orders/\(order.id.lowercased)")
        #expect(replicated.status == 200)
        #expect(replicated.json["amount"] as? Int == 1250)
        #expect(replicated.json["replicatedAt"] is String)
    }

    @Test("a customer's orders come a page at a time, like every list (found by a new user: it had no limit)")
    func customerOrdersArePaged() async throws {
        let client = try client
        let customerId = try await Self.createAda(client)
        let orders = (0..<5).map { OrderRecord(id: UUID(), customerId: customerId, amount: 100, createdAt: Date(timeIntervalSince1970: Double($0))) }
        for order in orders { store.replicaOrders.replicate(order) }
        var seen: [String] = []
        var path = "/customers/\(customerId.lowercased)/orders?limit=2"
        while true {
            let page = try await client.send(.get, path)
            #expect(page.status == 200)
            let items = try #require(page.json["items"] as? [[String: Any]])
            #expect(items.count <= 2)
            seen += items.compactMap { $0["id"] as? String }
            guard let next = page.json["next"] as? String else { break }
            path = "/customers/\(customerId.lowercased)/orders?limit=2&after=\(next)"
        }
        #expect(seen == orders.map(\.id.lowercased))
        expectInvalidParameters(try await client.send(.get, "/customers/\(customerId.lowercased)/orders?limit=0"), ["limit"])
    }
}
