import AMQP
import Contract
import Foundation
import TestSupport
import Testing

/// A replica keeps the highest version of each record (DESIGN §7), so the events of a record
/// converge in any delivery order: a late older event never overwrites a newer state.
@Suite("Any delivery order converges")
struct EventOrderTests {
    /// Version `version` of one customer, renamed at each change.
    static func version(_ version: Int64, of id: UUID, createdAt: Date) -> CustomerRecord {
        CustomerRecord(
            id: id, name: "Name v\(version)", email: "order-\(id.lowercased)@example.com", creditLimit: version * 100, createdAt: createdAt,
            version: version, updatedAt: createdAt.addingTimeInterval(Double(version)))
    }

    @Test(
        "the changes of one customer, published straight to the queue in any order, leave the newest at the replica",
        arguments: [[5, 4, 3, 2, 1], [3, 5, 1, 4, 2], [1, 2, 3, 4, 5]] as [[Int64]])
    func convergesToTheNewest(order: [Int64]) async throws {
        try await withSystem { system in
            let id = UUID()
            let createdAt = Date(timeIntervalSince1970: 1_800_000_000)
            for version in order {
                let record = Self.version(version, of: id, createdAt: createdAt)
                let type = version == 1 ? EventType.customerCreated : .customerUpdated
                try await system.broker.publish(
                    AMQPMessage(
                        exchange: system.names.customerEvents, body: EventFixture.customerCreated(record, type: type.rawValue, sequence: version),
                        properties: EventFixture.properties))
            }
            let settled = try await eventually {
                let status = try await system.clients.replicationStatus(of: .orderService).consumer
                return status.processed + status.duplicates == Int64(order.count)
            }
            #expect(settled, "every event was consumed")
            let replica = try #require(try await system.clients.replicaCustomer(id: id.lowercased))
            #expect(replica.value1.version == 5, "order \(order)")
            #expect(replica.value1.name == "Name v5", "order \(order)")
            #expect(replica.value1.creditLimit == 500)
            #expect(try await system.clients.replicationStatus(of: .orderService).consumer.deadLettered == 0)
        }
    }
}
