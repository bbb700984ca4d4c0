import Contract
import Foundation
import Postgres
import Replication

/// Applies `order.created` events to CustomerService's `replica_orders`.
struct OrderReplicaWriter: ReplicaEventHandler {
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> OrderRecord {
        try event.record(of: .orderCreated, as: OrderRecord.self) { $0.validate(prefix: "data.") }
    }

    func apply(_ changes: [PreparedEvent<OrderRecord>], on connection: PostgresConnection) async throws -> Set<UUID> {
        let orders = changes.map(\.change)
        let envelopes = changes.map(\.event.envelope)
        let inserted = try await connection.query(
            """
            INSERT INTO replica_orders (id, customer_id, amount, status, created_at, event_id, request_id)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::timestamptz[], $6::uuid[], $7::text[])
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """,
            [
                orders.map(\.id), orders.map(\.customerId), orders.map(\.amount), orders.map(\.status),
                orders.map(\.createdAt), envelopes.map(\.eventId), envelopes.map(\.requestId),
            ]
        )
        return Set(try inserted.map { try $0.decode(0, as: UUID.self) })
    }
}
