import Contract
import Postgres
import Replication

/// Applies `customer.created` events to OrderService's `replica_customers`.
struct CustomerReplicaWriter: ReplicaEventHandler {
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> CustomerRecord {
        guard event.envelope.type == EventType.customerCreated.rawValue else {
            throw PoisonMessage(.unknownType, "\(event.envelope.type) is not \(EventType.customerCreated.rawValue)")
        }
        let customer = try event.decodeData(as: CustomerRecord.self)
        let invalid = customer.validate(prefix: "data.")
        guard invalid.isEmpty else { throw PoisonMessage(.invalidData, invalid.summary) }
        return customer
    }

    func apply(_ customer: CustomerRecord, of event: IncomingEvent, on connection: PostgresConnection) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO replica_customers (id, name, email, credit_limit, created_at, event_id, request_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """,
            [customer.id, customer.name, customer.email, customer.creditLimit, customer.createdAt, event.envelope.eventId, event.envelope.requestId]
        )
        return !inserted.isEmpty
    }
}
