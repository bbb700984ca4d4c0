import Contract
import Foundation
import Replication
import Testing

@testable import OrderService

/// OrderService's HTTP contract (docs/contract.md#http) at router level: status codes, problem+json
/// bodies and headers, with the service's real router and handlers over an in-memory store.
/// No server, database or broker runs.
@Suite("OrderService HTTP contract (router level)")
struct OrderAPIContractTests {
    let store = InMemoryOrderStore()
    static let customer = CustomerRecord(
        id: UUID(), name: "Ada", email: "ada@example.com", creditLimit: 0, createdAt: Date(timeIntervalSince1970: 1_800_000_000)
    )

    var client: RouterClient {
        get throws { RouterClient(router: try buildOrderRouter(orders: store, logger: RouterClient.logger)) }
    }

    @Test("an order for a replicated customer is a 201 with the record and a Location header")
    func created() async throws {
        store.replicaCustomers.replicate(Self.customer)
        let response = try await client.send(.post, "/orders", body: #"{"customerId": "\#(Self.customer.id.lowercased)", "amount": 100}"#)
        #expect(response.status == 201)
        let id = try #require(response.json["id"] as? String)
        #expect(response.headers[.location] == "/orders/\(id)")
        #expect(response.json["status"] as? String == "created")
    }

    @Test("an order for a customer OrderService does not know is a 422 problem ending in unknown-customer")
    func unknownCustomer() async throws {
        let response = try await client.send(.post, "/orders", body: #"{"customerId": "\#(UUID().uuidString.lowercased())", "amount": 100}"#)
        #expect(response.status == 422)
        #expect(response.contentType == "application/problem+json")
        #expect(response.problemType?.hasSuffix("unknown-customer") == true)
        #expect(response.json["status"] as? Int == 422)
    }

    @Test(
        "invalid bodies are a 400 problem naming the field",
        arguments: [
            (#"{"customerId": "nope", "amount": 5}"#, "customerId"),
            (#"{"customerId": "6f1c1b36-6a6e-4a39-9a41-0d6f0c0b6b8e", "amount": 0}"#, "amount"),
            (#"{"customerId": "6f1c1b36-6a6e-4a39-9a41-0d6f0c0b6b8e"}"#, "amount"),
            ("[]", "body"),
        ]
    )
    func invalidBodies(body: String, field: String) async throws {
        expectInvalidBody(try await client.send(.post, "/orders", body: body), naming: field)
    }

    @Test("unknown ids are 404 problems; malformed ids are 400s naming the parameter")
    func notFound() async throws {
        let client = try client
        let id = UUID().uuidString.lowercased()
        for path in ["/orders/\(id)", "/replica/customers/\(id)"] {
            let response = try await client.send(.get, path)
            #expect(response.status == 404, "\(path)")
            #expect(response.contentType == "application/problem+json")
        }
        expectInvalidParameters(try await client.send(.get, "/orders?customerId=42"), ["customerId"])
    }

    @Test("a deleted customer's replica read is a 410 problem with the tombstone and when the replica wrote it")
    func replicaDeleted() async throws {
        let id = UUID()
        let deletedAt = Date(timeIntervalSince1970: 1_800_000_000.125)
        store.replicaTombstones.withLock {
            $0[id] = Replicated(
                record: Tombstone(id: id, version: 4, deletedAt: deletedAt), replicatedAt: deletedAt + 0.25, eventId: UUID(), requestId: nil)
        }
        let response = try await client.send(.get, "/replica/customers/\(id.lowercased)")
        #expect(response.status == 410)
        #expect(response.contentType == "application/problem+json")
        #expect((response.json["type"] as? String)?.hasSuffix("replica-deleted") == true)
        #expect(response.json["id"] as? String == id.lowercased)
        #expect(response.json["version"] as? Int == 4)
        #expect(response.json["deletedAt"] as? String == "2027-01-15T08:00:00.125Z")
        #expect(response.json["replicatedAt"] as? String == "2027-01-15T08:00:00.375Z")
    }

    @Test("the same Idempotency-Key with another body is a 422 problem")
    func idempotencyKey() async throws {
        store.replicaCustomers.replicate(Self.customer)
        let client = try client
        let body = #"{"customerId": "\#(Self.customer.id.lowercased)", "amount": 100}"#
        let first = try await client.send(.post, "/orders", body: body, headers: ["Idempotency-Key": "k-1"])
        let again = try await client.send(.post, "/orders", body: body, headers: ["Idempotency-Key": "k-1"])
        #expect(first.json["id"] as? String == again.json["id"] as? String)
        let other = try await client.send(
            .post, "/orders", body: #"{"customerId": "\#(Self.customer.id.lowercased)", "amount": 101}"#, headers: ["Idempotency-Key": "k-1"]
        )
        #expect(other.status == 422)
        #expect(other.problemType?.hasSuffix("idempotency-key-reused") == true)
    }

    @Test("orders list per customer, and the replicated customer reads from the replica")
    func reads() async throws {
        store.replicaCustomers.replicate(Self.customer)
        let client = try client
        _ = try await client.send(.post, "/orders", body: #"{"customerId": "\#(Self.customer.id.lowercased)", "amount": 7}"#)
        let page = try await client.send(.get, "/orders?customerId=\(Self.customer.id.lowercased)")
        #expect((page.json["items"] as? [Any])?.count == 1)
        #expect(page.json["next"] is NSNull)
        let none = try await client.send(.get, "/orders?customerId=\(UUID().uuidString.lowercased())")
        #expect((none.json["items"] as? [Any])?.isEmpty == true)
        let replicated = try await client.send(.get, "/replica/customers/\(Self.customer.id.lowercased)")
        #expect(replicated.status == 200)
        #expect(replicated.json["email"] as? String == "ada@example.com")
    }
}

/// Cancelling an order (docs/design.md#versions-and-tombstones) at router level, over an in-memory store.
extension OrderAPIContractTests {
    @Test("a cancel is a 200 with status cancelled at version 2; a second one is a 409 problem ending in invalid-state")
    func cancel() async throws {
        let client = try client
        store.replicaCustomers.replicate(Self.customer)
        let created = try await client.send(
            .post, "/orders", body: #"{"customerId": "\#(Self.customer.id.lowercased)", "amount": 100}"#)
        let path = "/orders/" + (try #require(created.json["id"] as? String)) + "/cancel"
        let stale = try await client.send(.post, path, headers: ["If-Match": #""2""#])
        #expect(stale.status == 412)
        let cancelled = try await client.send(.post, path, headers: ["If-Match": #""1""#, "Idempotency-Key": "c-1"])
        #expect(cancelled.status == 200)
        #expect(cancelled.json["status"] as? String == "cancelled")
        #expect(cancelled.json["version"] as? Int == 2)
        #expect(cancelled.headers[.eTag] == #""2""#)
        #expect(try await client.send(.post, path, headers: ["If-Match": #""1""#, "Idempotency-Key": "c-1"]).status == 200, "a repeat")
        let again = try await client.send(.post, path)
        #expect(again.status == 409)
        #expect(again.problemType?.hasSuffix("invalid-state") == true)
        #expect(try await client.send(.post, "/orders/\(UUID().uuidString.lowercased())/cancel").status == 404)
    }
}
