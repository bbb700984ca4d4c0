import Contract
import Foundation
import Postgres
import Replication
import ServiceSupport

/// CustomerService's SQL: customers (owned, changed through the change log, so each change
/// commits with its event), the tombstones of deleted customers, and the replica of orders.
struct CustomerRepository: CustomerStore {
    let changes: ChangeLog
    let replicaOrders: ReplicaTable<OrderRecord>
    let customers = RecordTable<CustomerRecord>(name: "customers")
    private var database: PostgresClient { changes.database }

    func create(_ customer: NewCustomer, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: CustomerRecord, created: Bool) {
        try await changes.create(.customerCreated, requestId: requestId, idempotency: idempotency) { connection in
            let id = TimeOrderedUUID.make()
            let inserted = try await emailChecked(customer.email) {
                try await connection.query(
                    """
                    INSERT INTO customers (id, name, email, credit_limit, request_id, created_at, updated_at)
                    SELECT $1, $2, $3, $4, $5, now.at, now.at
                    FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS at) AS now
                    RETURNING created_at
                    """,
                    [id, customer.name, customer.email, customer.creditLimit, requestId]
                )
            }
            return CustomerRecord(
                id: id, name: customer.name, email: customer.email, creditLimit: customer.creditLimit, createdAt: try inserted[0].decode(0)
            )
        }
    }

    func update(
        id: UUID, _ patch: CustomerPatch, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?
    ) async throws -> (record: CustomerRecord, changed: Bool) {
        try await changes.write(.customerUpdated, requestId: requestId, idempotency: idempotency, status: 200) { connection in
            let current = try await lockedCustomer(id: id, ifMatch: ifMatch, on: connection)
            var next = patch.applied(to: current)
            guard next != current else { return .unchanged(current) }
            let updated = try await emailChecked(next.email) {
                try await connection.query(
                    """
                    UPDATE customers SET name = $2, email = $3, credit_limit = $4, version = version + 1,
                        updated_at = date_trunc('milliseconds', clock_timestamp())
                    WHERE id = $1
                    RETURNING version, updated_at
                    """,
                    [id, next.name, next.email, next.creditLimit]
                )
            }
            (next.version, next.updatedAt) = (try updated[0].decode(0), try updated[0].decode(1))
            return .changed(next)
        }
    }

    func delete(id: UUID, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?) async throws -> Tombstone {
        try await changes.write(.customerDeleted, requestId: requestId, idempotency: idempotency, status: 204) { connection in
            let current = try await lockedCustomer(id: id, ifMatch: ifMatch, on: connection)
            // The row goes; its tombstone, one version on, stays for replication and resync.
            let deleted = try await connection.query(
                """
                WITH gone AS (DELETE FROM customers WHERE id = $1 RETURNING id, version)
                INSERT INTO deleted_customers (id, version, deleted_at, request_id)
                SELECT id, version + 1, date_trunc('milliseconds', clock_timestamp()), $2 FROM gone
                RETURNING version, deleted_at
                """,
                [id, requestId]
            )
            precondition(deleted.count == 1, "customer \(current.id) was locked, yet not deleted")
            // What else holds the customer's name and email: its earlier events and stored responses.
            try await Erasure.erase(record: id, on: connection)
            return .changed(Tombstone(id: id, version: try deleted[0].decode(0), deletedAt: try deleted[0].decode(1)))
        }.record
    }

    func customer(id: UUID) async throws -> CustomerRecord? {
        try await customers.record(id: id, in: database)
    }

    func customers(after cursor: PageCursor?, limit: Int) async throws -> Page<CustomerRecord> {
        try await customers.page(after: cursor, limit: limit, in: database)
    }

    func replicaOrders(customerId: UUID, after cursor: PageCursor?, limit: Int) async throws -> Page<Replicated<OrderRecord>> {
        let fetched = try await replicaOrders.records(
            where: "customer_id", equals: customerId, after: cursor.map { ($0.createdAt, $0.id) }, limit: limit + 1, in: database)
        return Page(fetched: fetched, limit: limit) { PageCursor(createdAt: $0.record.createdAt, id: $0.record.id) }
    }

    func replicaOrder(id: UUID) async throws -> Replicated<OrderRecord>? {
        try await replicaOrders.record(id: id, in: database)
    }

    /// Customer `id`, locked until the transaction ends, when `ifMatch` allows changing it.
    private func lockedCustomer(id: UUID, ifMatch: IfMatch?, on connection: PostgresConnection) async throws -> CustomerRecord {
        guard let current = try await customers.lockedRecord(id: id, on: connection) else {
            throw ChangeRefusal.notFound("no customer \(id.lowercased)")
        }
        try ChangeRefusal.check(ifMatch, version: current.version)
        return current
    }

    /// Runs `statement`, which writes `email`; the unique index on emails refuses one in use.
    private func emailChecked(_ email: String, _ statement: () async throws -> PostgresQueryResult) async throws -> PostgresQueryResult {
        do {
            return try await statement()
        } catch let error as PostgresError where error.isUniqueViolation {
            throw CustomerError.emailTaken(email)
        }
    }
}
