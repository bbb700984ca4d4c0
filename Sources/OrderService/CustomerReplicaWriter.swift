import Contract
import Foundation
import Postgres
import Replication

/// Applies `customer.created` events to OrderService's `replica_customers`.
struct CustomerReplicaWriter: ReplicaEventHandler {
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> CustomerRecord {
        try event.record(of: .customerCreated, as: CustomerRecord.self) { $0.validate(prefix: "data.") }
    }

    func apply(_ changes: [PreparedEvent<CustomerRecord>], on connection: PostgresConnection) async throws -> Set<UUID> {
        let customers = changes.map(\.change)
        let envelopes = changes.map(\.event.envelope)
        let inserted = try await connection.query(
            """
            INSERT INTO replica_customers (id, name, email, credit_limit, created_at, event_id, request_id)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::uuid[], $7::text[])
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """,
            [
                customers.map(\.id), customers.map(\.name), customers.map(\.email), customers.map(\.creditLimit),
                customers.map(\.createdAt), envelopes.map(\.eventId), envelopes.map(\.requestId),
            ]
        )
        return Set(try inserted.map { try $0.decode(0, as: UUID.self) })
    }
}
