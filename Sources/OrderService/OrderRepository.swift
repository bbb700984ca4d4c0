import Contract
import Foundation
import Postgres
import Replication
import ServiceSupport

/// OrderService's SQL: orders (owned, changed through the change log, so each change commits
/// with its event) and the replica of customers.
struct OrderRepository: OrderStore {
    let changes: ChangeLog
    let replicaCustomers: ReplicaTable<CustomerRecord>
    let orders = RecordTable<OrderRecord>(name: "orders")
    private var database: PostgresClient { changes.database }

    func create(_ order: NewOrder, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, created: Bool) {
        try await changes.create(.orderCreated, requestId: requestId, idempotency: idempotency) { connection in
            let id = TimeOrderedUUID.make()
            // The customer check and the insert are one statement: no round trip in between. A
            // deleted customer is a tombstone in the replica: no new orders for it.
            let inserted = try await connection.query(
                """
                INSERT INTO orders (id, customer_id, amount, request_id, created_at, updated_at)
                SELECT $1, $2, $3, $4, now.at, now.at
                FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS at) AS now
                WHERE EXISTS (SELECT 1 FROM replica_customers WHERE id = $2 AND \(ReplicationSchema.liveReplicaRows))
                RETURNING created_at
                """,
                [id, order.customerId, order.amount, requestId]
            )
            guard let row = inserted.first else { throw OrderError.unknownCustomer(order.customerId) }
            return OrderRecord(id: id, customerId: order.customerId, amount: order.amount, createdAt: try row.decode(0))
        }
    }

    func cancel(id: UUID, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, changed: Bool)
    {
        try await changes.write(.orderCancelled, requestId: requestId, idempotency: idempotency, status: 200) { connection in
            guard var order = try await orders.lockedRecord(id: id, on: connection) else {
                throw ChangeRefusal.notFound("no order \(id.lowercased)")
            }
            try ChangeRefusal.check(ifMatch, version: order.version)
            guard order.status == OrderRecord.created else { throw OrderError.invalidState(id, status: order.status) }
            let updated = try await connection.query(
                """
                UPDATE orders SET status = $2, version = version + 1, updated_at = date_trunc('milliseconds', clock_timestamp())
                WHERE id = $1
                RETURNING version, updated_at
                """,
                [id, OrderRecord.cancelled]
            )
            order.status = OrderRecord.cancelled
            (order.version, order.updatedAt) = (try updated[0].decode(0), try updated[0].decode(1))
            return .changed(order)
        }
    }

    func order(id: UUID) async throws -> OrderRecord? {
        try await orders.record(id: id, in: database)
    }

    func orders(customerId: UUID?, after cursor: PageCursor?, limit: Int) async throws -> Page<OrderRecord> {
        guard let customerId else { return try await orders.page(after: cursor, limit: limit, in: database) }
        return try await orders.page(where: "customer_id", equals: customerId, after: cursor, limit: limit, in: database)
    }

    func replicaCustomer(id: UUID) async throws -> Replicated<CustomerRecord>? {
        try await replicaCustomers.record(id: id, in: database)
    }

    func replicaCustomerTombstone(id: UUID) async throws -> Replicated<Tombstone>? {
        try await replicaCustomers.tombstone(id: id, in: database)
    }
}
