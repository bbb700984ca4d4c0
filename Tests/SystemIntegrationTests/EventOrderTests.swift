import AMQP
import Contract
import Foundation
import TestSupport
import Testing

/// A replica keeps the highest version of each record (docs/design.md#versions-and-tombstones), so the events of a record
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

    @Test(
        "a create, an update and a delete in any order leave a tombstone: an older update after the delete does not revive the customer",
        arguments: [[1, 2, 3], [3, 2, 1], [1, 3, 2], [2, 3, 1]] as [[Int64]])
    func deleteIsNeverRevived(order: [Int64]) async throws {
        try await withSystem { system in
            let id = UUID()
            let createdAt = Date(timeIntervalSince1970: 1_800_000_000)
            for version in order {
                let body: [UInt8]
                switch version {
                case 3:
                    let tombstone = Tombstone(id: id, version: 3, deletedAt: createdAt.addingTimeInterval(3))
                    body = EventFixture.event(tombstone, type: .customerDeleted, sequence: 3)
                default:
                    body = EventFixture.event(
                        Self.version(version, of: id, createdAt: createdAt), type: version == 1 ? .customerCreated : .customerUpdated,
                        sequence: version)
                }
                try await system.broker.publish(AMQPMessage(exchange: system.names.customerEvents, body: body, properties: EventFixture.properties))
            }
            let settled = try await eventually {
                let status = try await system.clients.replicationStatus(of: .orderService).consumer
                return status.processed + status.duplicates == Int64(order.count)
            }
            #expect(settled, "every event was consumed")
            #expect(try await system.clients.replicaCustomer(id: id.lowercased) == nil, "order \(order)")
            let tombstone = try await system.withDatabase(.orderService) { database in
                try await database.query("SELECT version, deleted_at IS NOT NULL, name IS NULL FROM replica_customers WHERE id = $1", [id]).first
            }
            let row = try #require(tombstone, "the replica keeps a tombstone")
            #expect(try row.decode(0, as: Int64.self) == 3)
            #expect(try row.decode(1, as: Bool.self), "deleted")
            #expect(try row.decode(2, as: Bool.self), "a tombstone keeps no personal data")
            #expect(try await system.clients.replicationStatus(of: .orderService).replica.count == 0, "the digest leaves tombstones out")
        }
    }
}
