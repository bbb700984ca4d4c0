import Contract
import Postgres
import Replication

/// Applies `order.created` events to CustomerService's `replica_orders`.
struct OrderReplicaWriter: ReplicaEventHandler {
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> OrderRecord {
        guard event.envelope.type == EventType.orderCreated.rawValue else {
            throw PoisonMessage(.unknownType, "\(event.envelope.type) is not \(EventType.orderCreated.rawValue)")
        }
        let order = try event.decodeData(as: OrderRecord.self)
        let invalid = order.validate(prefix: "data.")
        guard invalid.isEmpty else { throw PoisonMessage(.invalidData, invalid.summary) }
        return order
    }

    func apply(_ order: OrderRecord, of event: IncomingEvent, on connection: PostgresConnection) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO replica_orders (id, customer_id, amount, status, created_at, event_id, request_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """,
            [order.id, order.customerId, order.amount, order.status, order.createdAt, event.envelope.eventId, event.envelope.requestId]
        )
        return !inserted.isEmpty
    }
}
