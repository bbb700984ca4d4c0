import AMQP
import CommonClient
import Contract
import Foundation
import Postgres
import TestSupport
import Testing

/// Records reach the other service exactly once in effect, whatever the broker
/// delivers (docs/design.md#guarantees and docs/contract.md#events).
@Suite("Replication", .timeLimit(.minutes(3)))
struct ReplicationFlowTests {
    @Test("a customer reaches OrderService's replica; an order reaches CustomerService's replica")
    func bothDirections() async throws {
        try await withSystem { system in
            let customer = try await system.clients.createCustomer(name: "Ada", email: "ada@example.com", creditLimit: 5000)
            try await expectEventually { try await system.clients.replicaCustomer(id: customer.id) != nil }
            let replica = try #require(try await system.clients.replicaCustomer(id: customer.id))
            #expect(replica.value1 == customer)
            #expect(replica.value2.replicatedAt >= customer.createdAt)

            let order = try await system.clients.createOrder(customerId: customer.id, amount: 1250)
            try await expectEventually { try await system.clients.customerOrders(customerId: customer.id).count == 1 }
            let orders = try await system.clients.customerOrders(customerId: customer.id)
            #expect(orders.first?.value1 == order)

            let customerStatus = try await system.clients.replicationStatus(of: .customerService)
            let orderStatus = try await system.clients.replicationStatus(of: .orderService)
            #expect(orderStatus.replica == customerStatus.source)
            #expect(customerStatus.replica == orderStatus.source)
        }
    }

    @Test("the same event twice, and a replay with a new event id, leave one replica row; all are acked")
    func duplicatesAndReplays() async throws {
        try await withSystem { system in
            let customer = CustomerRecord(id: UUID(), name: "Dup", email: "dup@example.com", creditLimit: 0, createdAt: Date())
            let event = EventFixture.customerCreated(customer)
            let replay = EventFixture.customerCreated(customer, sequence: 2)
            for body in [event, event, replay] {
                try await system.broker.publish(AMQPMessage(exchange: system.names.customerEvents, body: body, properties: EventFixture.properties))
            }
            let queue = system.names.customerEventsQueue
            try await expectEventually {
                try await system.clients.replicationStatus(of: .orderService).consumer.duplicates == 2
            }
            let status = try await system.clients.replicationStatus(of: .orderService)
            #expect(status.consumer.processed == 1)
            #expect(status.consumer.deadLettered == 0)
            #expect(status.replica.count == 1)
            try await expectEventually { try await system.broker.messageCount(queue: queue) == 0 }
            let rows = try await system.withDatabase(.orderService) { database in
                try await database.query("SELECT count(*) FROM replica_customers WHERE id = $1", [customer.id])[0].decode(0, as: Int64.self)
            }
            #expect(rows == 1)
        }
    }

    @Test("not-JSON and unknown-type messages go to the dead-letter queue with a reason; later events still replicate")
    func poisonMessages() async throws {
        try await withSystem { system in
            let customer = CustomerRecord(id: UUID(), name: "After", email: "after@example.com", creditLimit: 0, createdAt: Date())
            let exchange = system.names.customerEvents
            try await system.broker.publish(AMQPMessage(exchange: exchange, body: Array("{not json".utf8), properties: EventFixture.properties))
            try await system.broker.publish(
                AMQPMessage(
                    exchange: exchange, body: EventFixture.customerCreated(customer, type: "customer.merged"), properties: EventFixture.properties
                ))
            try await system.broker.publish(
                AMQPMessage(
                    exchange: exchange,
                    body: Array(
                        #"{"eventId":"\#(UUID().uuidString)","type":"customer.created","occurredAt":"2026-11-21T18:00:00.123Z","sequence":1,"data":{"id":"x"}}"#
                            .utf8),
                    properties: EventFixture.properties
                ))
            try await system.broker.publish(
                AMQPMessage(exchange: exchange, body: EventFixture.customerCreated(customer), properties: EventFixture.properties))

            try await expectEventually { try await system.clients.replicaCustomer(id: customer.id.lowercased) != nil }
            let deadLetterQueue = system.names.deadLetterQueue(of: system.names.customerEventsQueue)
            try await expectEventually { try await system.broker.messageCount(queue: deadLetterQueue) == 3 }
            var reasons: [String] = []
            while let message = try await system.broker.get(queue: deadLetterQueue) {
                if case .string(let reason)? = message.properties.headers["x-dead-letter-reason"] { reasons.append(reason) }
                try await message.ack()
            }
            #expect(reasons.count == 3)
            #expect(reasons.contains(prefixed: "invalid-json"))
            #expect(reasons.contains(prefixed: "unknown-type"))
            #expect(reasons.contains(prefixed: "invalid-data"))
            #expect(try await system.clients.replicationStatus(of: .orderService).consumer.deadLettered == 3)
        }
    }

    @Test("customers created while OrderService is down all reach it after it restarts")
    func subscriberDowntime() async throws {
        try await withSystem { system in
            try await system.orderService.stop()
            var ids: [String] = []
            for index in 0..<20 {
                ids.append(
                    try await system.clients.createCustomer(name: "Offline \(index)", email: "offline\(index)@example.com", creditLimit: nil).id)
            }
            try await system.orderService.start()
            let clients = system.clients
            try await expectEventually(timeout: .seconds(30)) {
                try await clients.replicationStatus(of: .orderService).replica.count == 20
            }
            for id in ids { #expect(try await clients.replicaCustomer(id: id) != nil) }
            let source = try await clients.replicationStatus(of: .customerService).source
            #expect(try await clients.replicationStatus(of: .orderService).replica == source)
        }
    }
}

/// Event bodies as a publisher following the contract would send them.
enum EventFixture {
    /// Published with the test broker's user as `user_id`: the user the harness's services accept
    /// events from (`CONSUMER_PUBLISHER_USER`), as they would accept their peer's.
    static let properties = AMQPProperties(
        contentType: "application/json", persistent: true, appID: "system-tests", userID: try? TestEnvironment.amqpConfiguration().user)

    static func customerCreated(_ customer: CustomerRecord, type: String = EventType.customerCreated.rawValue, sequence: Int64 = 1) -> [UInt8] {
        let envelope = EventEnvelope(
            eventId: UUID(), type: type, occurredAt: customer.createdAt, sequence: sequence, requestId: "fixture", data: customer
        )
        return (try? envelope.body()) ?? []
    }

    /// An event of `type` whose data is `data`.
    static func event(_ data: some Codable & Sendable, type: EventType, sequence: Int64) -> [UInt8] {
        let envelope = EventEnvelope(
            eventId: UUID(), type: type.rawValue, occurredAt: Date(timeIntervalSince1970: 1_800_000_000), sequence: sequence, requestId: "fixture",
            data: data)
        return (try? envelope.body()) ?? []
    }
}

extension [String] {
    /// Whether an element starts with `prefix`.
    fileprivate func contains(prefixed prefix: String) -> Bool {
        contains { $0.hasPrefix(prefix) }
    }
}
