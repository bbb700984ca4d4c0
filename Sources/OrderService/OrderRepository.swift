import Contract
import Foundation
import Postgres
import Replication
import ServiceSupport

/// OrderService's SQL: orders (owned) and the replica of customers.
struct OrderRepository: Sendable {
    let database: PostgresClient
    let names: ReplicationNames

    /// Inserts the order, if its customer is in the replica, and its `order.created`
    /// event in one transaction; with an Idempotency-Key, a repeat returns the first
    /// response's record and writes nothing. Returns the record and whether it was created now.
    func create(
        customerId: UUID, amount: Int64,
        requestId: String, idempotency: IdempotentRequest?
    ) async throws -> (OrderRecord, created: Bool) {
        try await database.withTransaction { connection in
            if let idempotency, let stored = try await idempotency.claim(on: connection) {
                return (try JSONDecoder().decode(OrderRecord.self, from: Data(stored.utf8)), false)
            }
            let id = UUID()
            // The customer check and the insert are one statement: no round trip in between.
            let inserted = try await connection.query(
                """
                INSERT INTO orders (id, customer_id, amount, request_id)
                SELECT $1, $2, $3, $4
                WHERE EXISTS (SELECT 1 FROM replica_customers WHERE id = $2)
                RETURNING created_at
                """,
                [id, customerId, amount, requestId]
            )
            guard let row = inserted.first else {
                throw Problem(
                    code: "unknown-customer", title: "Unknown customer", status: .unprocessableContent,
                    detail: "customer \(customerId.lowercased) is not known to OrderService (not created, or not replicated yet)"
                )
            }
            let order = OrderRecord(id: id, customerId: customerId, amount: amount, createdAt: try row.decode(0))
            let data = String(decoding: try JSONEncoder().encode(order), as: UTF8.self)
            try await Outbox.append(
                OutboxEvent(type: EventType.orderCreated.rawValue, exchange: names.orderEvents, data: data, requestId: requestId),
                on: connection
            )
            try await idempotency?.complete(body: data, on: connection)
            return (order, true)
        }
    }

    func order(id: UUID) async throws -> OrderRecord? {
        try await database.query(
            "SELECT id, customer_id, amount, status, created_at FROM orders WHERE id = $1", [id]
        ).first.map(Self.order(from:))
    }

    func orders(customerId: UUID?, after cursor: PageCursor?, limit: Int) async throws -> Page<OrderRecord> {
        let rows = try await database.query(
            """
            SELECT id, customer_id, amount, status, created_at FROM orders
            WHERE ($1::uuid IS NULL OR customer_id = $1)
              AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
            ORDER BY created_at, id
            LIMIT $4
            """,
            [customerId, cursor?.createdAt, cursor?.id, limit + 1]
        )
        return Page(fetched: try rows.map(Self.order(from:)), limit: limit) { PageCursor(createdAt: $0.createdAt, id: $0.id) }
    }

    func replicaCustomer(id: UUID) async throws -> Replicated<CustomerRecord>? {
        try await database.query(
            """
            SELECT id, name, email, credit_limit, created_at, replicated_at, event_id, request_id
            FROM replica_customers WHERE id = $1
            """,
            [id]
        ).first.map { row in
            Replicated(
                record: CustomerRecord(id: try row.decode(0), name: try row.decode(1), email: try row.decode(2), creditLimit: try row.decode(3), createdAt: try row.decode(4)),
                replicatedAt: try row.decode(5),
                eventId: try row.decode(6),
                requestId: try row.decode(7)
            )
        }
    }

    private static func order(from row: PostgresRow) throws -> OrderRecord {
        OrderRecord(id: try row.decode(0), customerId: try row.decode(1), amount: try row.decode(2), status: try row.decode(3), createdAt: try row.decode(4))
    }
}
