import Contract
import Foundation
import Replication
import ServiceSupport
import Synchronization

@testable import OrderService

/// OrderService's storage kept in memory, with the rules the HTTP contract depends on
/// (an order needs a replicated customer, Idempotency-Keys): the HTTP layer is tested
/// without a database; ``OrderRepository`` itself is tested end to end.
final class InMemoryOrderStore: OrderStore {
    private let orders = Mutex(InMemoryRecords<OrderRecord>())
    /// The replica of customers (orders are only accepted for customers in it).
    let replicaCustomers = InMemoryReplica<CustomerRecord>()
    /// The replicated tombstones of deleted customers, by id.
    let replicaTombstones = Mutex<[UUID: Replicated<Tombstone>]>([:])

    func create(_ order: NewOrder, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, created: Bool) {
        let known = replicaCustomers.record(id: order.customerId) != nil
        return try orders.withLock { orders in
            if let first = try orders.repeated(idempotency) { return (first, false) }
            guard known else { throw OrderError.unknownCustomer(order.customerId) }
            let record = OrderRecord(id: UUID(), customerId: order.customerId, amount: order.amount, createdAt: orders.nextCreatedAt)
            orders.insert(record, idempotency: idempotency)
            return (record, true)
        }
    }

    func cancel(id: UUID, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, changed: Bool)
    {
        try orders.withLock { orders in
            try orders.change(id: id, ifMatch: ifMatch, idempotency: idempotency) { order in
                guard order.status == OrderRecord.created else { throw OrderError.invalidState(id, status: order.status) }
                order.status = OrderRecord.cancelled
            }
        }
    }

    func order(id: UUID) async throws -> OrderRecord? {
        orders.withLock { $0.all.first { $0.id == id } }
    }

    func orders(customerId: UUID?, after cursor: PageCursor?, limit: Int) async throws -> Page<OrderRecord> {
        let matching = orders.withLock { $0.all }.filter { customerId == nil || $0.customerId == customerId }
        return InMemoryRecords.page(matching, after: cursor, limit: limit, createdAt: \.createdAt)
    }

    func replicaCustomer(id: UUID) async throws -> Replicated<CustomerRecord>? {
        replicaCustomers.record(id: id)
    }

    func replicaCustomerTombstone(id: UUID) async throws -> Replicated<Tombstone>? {
        replicaTombstones.withLock { $0[id] }
    }
}
