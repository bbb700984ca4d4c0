import Contract
import Foundation
import Postgres
import Replication
import ServiceSupport

/// CustomerService's SQL: customers (owned, changed through the change log, so each change
/// commits with its event) and the replica of orders.
struct CustomerRepository: CustomerStore {
    let changes: ChangeLog
    let replicaOrders: ReplicaTable<OrderRecord>
    let customers = RecordTable<CustomerRecord>(name: "customers")
    private var database: PostgresClient { changes.database }

    func create(_ customer: NewCustomer, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: CustomerRecord, created: Bool) {
        try await changes.create(.customerCreated, requestId: requestId, idempotency: idempotency) { connection in
            let id = UUID()
            let inserted: PostgresQueryResult
            do {
                inserted = try await connection.query(
                    """
                    INSERT INTO customers (id, name, email, credit_limit, request_id, created_at, updated_at)
                    SELECT $1, $2, $3, $4, $5, now.at, now.at
                    FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS at) AS now
                    RETURNING created_at
                    """,
                    [id, customer.name, customer.email, customer.creditLimit, requestId]
                )
            } catch let error as PostgresError where error.isUniqueViolation {
                throw CustomerError.emailTaken(customer.email)
            }
            return CustomerRecord(
                id: id, name: customer.name, email: customer.email, creditLimit: customer.creditLimit, createdAt: try inserted[0].decode(0)
            )
        }
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
}
