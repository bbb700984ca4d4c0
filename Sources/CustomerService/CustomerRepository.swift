import Contract
import Foundation
import Postgres
import Replication
import ServiceSupport

/// CustomerService's SQL: customers (owned) and the replica of orders.
struct CustomerRepository: Sendable {
    let database: PostgresClient
    let names: ReplicationNames

    /// Inserts the customer and its `customer.created` event in one transaction;
    /// with an Idempotency-Key, a repeat returns the first response's record and writes nothing.
    /// Returns the record and whether it was created now.
    func create(
        name: String, email: String, creditLimit: Int64,
        requestId: String, idempotency: IdempotentRequest?
    ) async throws -> (CustomerRecord, created: Bool) {
        try await database.withTransaction { connection in
            if let idempotency, let stored = try await idempotency.claim(on: connection) {
                return (try JSONDecoder().decode(CustomerRecord.self, from: Data(stored.utf8)), false)
            }
            let id = UUID()
            let inserted: PostgresQueryResult
            do {
                inserted = try await connection.query(
                    """
                    INSERT INTO customers (id, name, email, credit_limit, request_id)
                    VALUES ($1, $2, $3, $4, $5)
                    RETURNING created_at
                    """,
                    [id, name, email, creditLimit, requestId]
                )
            } catch let error as PostgresError where error.isUniqueViolation {
                throw Problem(
                    code: "email-taken", title: "The email is already used", status: .conflict,
                    detail: "a customer with email \(email) exists"
                )
            }
            let customer = CustomerRecord(id: id, name: name, email: email, creditLimit: creditLimit, createdAt: try inserted[0].decode(0))
            let data = String(decoding: try JSONEncoder().encode(customer), as: UTF8.self)
            try await Outbox.append(
                OutboxEvent(type: EventType.customerCreated.rawValue, exchange: names.customerEvents, data: data, requestId: requestId),
                on: connection
            )
            try await idempotency?.complete(body: data, on: connection)
            return (customer, true)
        }
    }

    func customer(id: UUID) async throws -> CustomerRecord? {
        try await database.query(
            "SELECT id, name, email, credit_limit, created_at FROM customers WHERE id = $1", [id]
        ).first.map(Self.customer(from:))
    }

    func customers(after cursor: PageCursor?, limit: Int) async throws -> Page<CustomerRecord> {
        let rows = try await database.query(
            """
            SELECT id, name, email, credit_limit, created_at FROM customers
            WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1, $2)
            ORDER BY created_at, id
            LIMIT $3
            """,
            [cursor?.createdAt, cursor?.id, limit + 1]
        )
        return Page(fetched: try rows.map(Self.customer(from:)), limit: limit) { PageCursor(createdAt: $0.createdAt, id: $0.id) }
    }

    func replicaOrders(customerId: UUID) async throws -> [Replicated<OrderRecord>] {
        try await database.query(
            """
            SELECT id, customer_id, amount, status, created_at, replicated_at, event_id, request_id
            FROM replica_orders WHERE customer_id = $1 ORDER BY created_at, id
            """,
            [customerId]
        ).map(Self.replicaOrder(from:))
    }

    func replicaOrder(id: UUID) async throws -> Replicated<OrderRecord>? {
        try await database.query(
            """
            SELECT id, customer_id, amount, status, created_at, replicated_at, event_id, request_id
            FROM replica_orders WHERE id = $1
            """,
            [id]
        ).first.map(Self.replicaOrder(from:))
    }

    private static func customer(from row: PostgresRow) throws -> CustomerRecord {
        CustomerRecord(id: try row.decode(0), name: try row.decode(1), email: try row.decode(2), creditLimit: try row.decode(3), createdAt: try row.decode(4))
    }

    private static func replicaOrder(from row: PostgresRow) throws -> Replicated<OrderRecord> {
        Replicated(
            record: OrderRecord(id: try row.decode(0), customerId: try row.decode(1), amount: try row.decode(2), status: try row.decode(3), createdAt: try row.decode(4)),
            replicatedAt: try row.decode(5),
            eventId: try row.decode(6),
            requestId: try row.decode(7)
        )
    }
}
