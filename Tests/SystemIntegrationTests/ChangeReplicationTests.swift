import Contract
import Foundation
import NIOHTTP1
import TestSupport
import Testing

@testable import CommonClient

/// Changes replicate (docs/design.md#versions-and-tombstones): updates, deletes and cancellations reach the peer's
/// replica with their versions, against the real services, database and broker.
@Suite("Changes replicate")
struct ChangeReplicationTests {
    @Test(
        """
        if a Users service has its email address updated while a Billing microservice is down, \
        when it comes back up, how does it know that the email has been updated?
        """
    )
    func emailChangedWhileThePeerIsDown() async throws {
        try await withSystem { system in
            let customer = try await system.clients.createCustomer(name: "Ada", email: "ada@example.com", creditLimit: nil)
            try await expectEventually { try await system.clients.replicaCustomer(id: customer.id) != nil }

            try await system.orderService.stop()
            let changed = try await send(.PATCH, system.customerServiceURL, path: "/customers/\(customer.id)", body: #"{"email": "ada@new.example"}"#)
            #expect(changed.status == 200)
            #expect(changed.json["version"] as? Int == 2)
            try await system.orderService.start()

            // The change waited in CustomerService's outbox or in OrderService's durable queue.
            let caughtUp = try await eventually {
                try await system.clients.replicaCustomer(id: customer.id)?.value1.email == "ada@new.example"
            }
            #expect(caughtUp, "the email at OrderService after it restarts is the new one")
            let replica = try #require(try await system.clients.replicaCustomer(id: customer.id))
            #expect(replica.value1.version == 2)
            let updatedAt = (changed.json["updatedAt"] as? String).flatMap(Timestamp.parse)
            #expect(replica.value1.updatedAt == updatedAt)
        }
    }

    @Test("the same customer changed 50 times concurrently from 8 clients: version 51 at the source and at the replica")
    func concurrentChanges() async throws {
        try await withSystem { system in
            let customer = try await system.clients.createCustomer(name: "Busy", email: "busy@example.com", creditLimit: nil)
            let path = "/customers/\(customer.id)"
            // Each change sets another credit limit: none is a no-op, none may be lost.
            try await Self.concurrently(changes: 50, clients: 8) { change in
                let response = try await send(.PATCH, system.customerServiceURL, path: path, body: #"{"creditLimit": \#(change + 1)}"#)
                #expect(response.status == 200)
            }
            let source = try await system.clients.customer(id: customer.id)
            #expect(source.version == 51)
            let converged = try await eventually { try await system.clients.replicaCustomer(id: customer.id)?.value1.version == 51 }
            #expect(converged)
            #expect(try await system.clients.replicaCustomer(id: customer.id)?.value1.creditLimit == source.creditLimit)
        }
    }

    @Test("with If-Match, 50 concurrent read-then-change rounds from 8 clients: each is applied or a 412, never a lost update")
    func concurrentConditionalChanges() async throws {
        try await withSystem { system in
            let customer = try await system.clients.createCustomer(name: "Raced", email: "raced@example.com", creditLimit: nil)
            let path = "/customers/\(customer.id)"
            let applied = Locked<[Int: Int]>([:])  // version written -> credit limit it set
            let refused = Locked(0)
            try await Self.concurrently(changes: 50, clients: 8) { change in
                let read = try await send(.GET, system.customerServiceURL, path: path)
                let eTag = try #require(read.headers.first(name: "ETag"))
                let response = try await send(
                    .PATCH, system.customerServiceURL, path: path, body: #"{"creditLimit": \#(change + 1)}"#, headers: [("If-Match", eTag)])
                switch response.status {
                case 200: applied.update { $0[response.json["version"] as? Int ?? 0] = change + 1 }
                case 412: refused.update { $0 += 1 }
                default: Issue.record("status \(response.status)")
                }
            }
            let versions = applied.value
            #expect(versions.count + refused.value == 50)
            #expect(Set(versions.keys) == Set(2..<(2 + versions.count)), "each applied change made the next version")
            let source = try await system.clients.customer(id: customer.id)
            #expect(source.version == Int64(1 + versions.count))
            #expect(source.creditLimit == Int64(versions[Int(source.version)] ?? -1), "the last applied change is the state")
            try await expectEventually { try await system.clients.replicaCustomer(id: customer.id)?.value1.version == source.version }
        }
    }

    @Test("a delete replicates: the replica answers 410 with its tombstone, and an order for the customer is a 422 problem")
    func deleteReplicates() async throws {
        try await withSystem { system in
            let customer = try await system.clients.createCustomer(name: "Gone", email: "gone@example.com", creditLimit: nil)
            try await expectEventually { try await system.clients.replicaCustomer(id: customer.id) != nil }
            #expect(try await send(.DELETE, system.customerServiceURL, path: "/customers/\(customer.id)").status == 204)
            #expect(try await send(.GET, system.customerServiceURL, path: "/customers/\(customer.id)").status == 404)
            #expect(try await send(.DELETE, system.customerServiceURL, path: "/customers/\(customer.id)").status == 404)
            try await expectEventually { try await system.clients.replicaCustomer(id: customer.id) == nil }
            let read = try await system.clients.replicaCustomerRead(id: customer.id)
            guard case .deleted(let version, let deletedAt, let replicatedAt) = read else {
                Issue.record("the replica's read of a deleted customer is \(read), not its tombstone")
                return
            }
            #expect(version == 2)
            #expect(deletedAt <= replicatedAt, "the tombstone was written after the deletion committed")
            #expect(deletedAt > customer.createdAt)

            let order = try await send(.POST, system.orderServiceURL, path: "/orders", body: #"{"customerId": "\#(customer.id)", "amount": 100}"#)
            #expect(order.status == 422)
            #expect((order.json["type"] as? String)?.hasSuffix("unknown-customer") == true)
            // The email is free again; the status digests leave the tombstone out on both sides.
            _ = try await system.clients.createCustomer(name: "Again", email: "gone@example.com", creditLimit: nil)
            let converged = try await eventually {
                let source = try await system.clients.replicationStatus(of: .customerService).source
                return try await system.clients.replicationStatus(of: .orderService).replica == source
            }
            #expect(converged)
        }
    }

    @Test("a cancelled order replicates at its new version; a second cancel is a 409 problem")
    func cancelReplicates() async throws {
        try await withSystem { system in
            let customer = try await system.createReplicatedCustomer(name: "Buyer", email: "buyer@example.com")
            let order = try await system.clients.createOrder(customerId: customer.id, amount: 1200)
            let cancelled = try await send(.POST, system.orderServiceURL, path: "/orders/\(order.id)/cancel")
            #expect(cancelled.status == 200)
            #expect(cancelled.json["status"] as? String == "cancelled")
            let again = try await send(.POST, system.orderServiceURL, path: "/orders/\(order.id)/cancel")
            #expect(again.status == 409)
            #expect((again.json["type"] as? String)?.hasSuffix("invalid-state") == true)
            let replicated = try await eventually { try await system.clients.replicaOrder(id: order.id)?.value1.version == 2 }
            #expect(replicated)
            #expect(try await system.clients.replicaOrder(id: order.id)?.value1.status == .cancelled)
        }
    }

    @Test("the same Idempotency-Key on a PATCH, a DELETE and a cancel gives one change and one event each")
    func idempotentChanges() async throws {
        try await withSystem { system in
            let customer = try await system.createReplicatedCustomer(name: "Once", email: "once@example.com")
            let order = try await system.clients.createOrder(customerId: customer.id, amount: 10)
            let requests: [(HTTPMethod, URL, String, String?)] = [
                (.PATCH, system.customerServiceURL, "/customers/\(customer.id)", #"{"creditLimit": 9}"#),
                (.POST, system.orderServiceURL, "/orders/\(order.id)/cancel", nil),
                (.DELETE, system.customerServiceURL, "/customers/\(customer.id)", nil),
            ]
            for (method, url, path, body) in requests {
                let key = [("Idempotency-Key", "key-\(method)-\(path)")]
                let first = try await send(method, url, path: path, body: body, headers: key)
                let repeated = try await send(method, url, path: path, body: body, headers: key)
                #expect(first.status / 100 == 2, "\(method) \(path)")
                #expect(first.status == repeated.status, "\(method) \(path)")
                #expect(
                    String(decoding: first.body, as: UTF8.self) == String(decoding: repeated.body, as: UTF8.self),
                    "\(method) \(path): the first answer again")
            }
            #expect(try await system.outboxEventTypes(.customerService) == ["customer.created", "customer.updated", "customer.deleted"])
            #expect(try await system.outboxEventTypes(.orderService) == ["order.created", "order.cancelled"])
        }
    }

    /// Runs `changes` calls of `body` (given 0..<changes) on `clients` concurrent tasks.
    static func concurrently(changes: Int, clients: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let next = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    while true {
                        var change = 0
                        next.update { value in
                            change = value
                            value += 1
                        }
                        guard change < changes else { return }
                        try await body(change)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// `common-client status` in numbers (issue 13): what waits for a subscriber that was down, and that it caught up.
@Suite("Catch-up in numbers")
struct CatchUpStatusTests {
    @Test("after OrderService was down, the status shows its queue at the broker, then the direction caught up")
    func catchUp() async throws {
        try await withSystem { system in
            try await system.orderService.stop()
            _ = try await system.createCustomers(40, prefix: "waiting")
            try await expectEventually { try await system.broker.messageCount(queue: system.names.customerEventsQueue) == 40 }
            try await system.orderService.start()
            let queue = try await system.clients.replicationStatus(of: .orderService).queue
            #expect(queue != nil, "the broker's figures are in the status")
            #expect(queue?.deadLetters == 0)
            try await expectEventually { try await system.clients.replicationStatus(of: .orderService).replica.count == 40 }
            try await Task.sleep(for: .milliseconds(1100))
            let customer = Status.ServiceStatus(url: "", replication: try await system.clients.replicationStatus(of: .customerService))
            let order = Status.ServiceStatus(url: "", replication: try await system.clients.replicationStatus(of: .orderService))
            let direction = try #require(Status.direction("customers", source: customer, replica: order, before: order, seconds: 1))
            #expect(direction.sourceRecords == 40)
            #expect(direction.replicaRecords == 40)
            #expect(direction.queueDepth == 0)
            #expect(direction.catchUpSeconds == 0)
            #expect(Status.describe(direction).contains("caught up"))
        }
    }
}
