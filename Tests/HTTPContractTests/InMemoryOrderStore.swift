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
    private struct State {
        var orders: [OrderRecord] = []
        var customers: [Replicated<CustomerRecord>] = []
        var keys: [String: (IdempotentRequest, OrderRecord)] = [:]
    }

    private let state = Mutex(State())

    /// Puts a replicated customer in place, as the consumer would.
    func replicate(_ customer: CustomerRecord) {
        state.withLock { $0.customers.append(Replicated(record: customer, replicatedAt: Date(), eventId: UUID(), requestId: nil)) }
    }

    func create(_ order: NewOrder, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, created: Bool) {
        try state.withLock { state in
            if let idempotency, let (first, record) = state.keys[idempotency.key] {
                guard first.operation == idempotency.operation, first.fingerprint == idempotency.fingerprint else { throw IdempotencyError.reused }
                return (record, false)
            }
            guard state.customers.contains(where: { $0.record.id == order.customerId }) else { throw OrderError.unknownCustomer(order.customerId) }
            let record = OrderRecord(
                id: UUID(), customerId: order.customerId, amount: order.amount,
                createdAt: Date(timeIntervalSince1970: Double(1_800_000_000 + state.orders.count))
            )
            state.orders.append(record)
            if let idempotency { state.keys[idempotency.key] = (idempotency, record) }
            return (record, true)
        }
    }

    func order(id: UUID) async throws -> OrderRecord? {
        state.withLock { $0.orders.first { $0.id == id } }
    }

    func orders(customerId: UUID?, after cursor: PageCursor?, limit: Int) async throws -> Page<OrderRecord> {
        let all = state.withLock { $0.orders }.filter { customerId == nil || $0.customerId == customerId }
        let start = cursor.map { cursor in all.firstIndex { $0.id == cursor.id }.map { $0 + 1 } ?? all.count } ?? 0
        return Page(fetched: Array(all[start...].prefix(limit + 1)), limit: limit) { PageCursor(createdAt: $0.createdAt, id: $0.id) }
    }

    func replicaCustomer(id: UUID) async throws -> Replicated<CustomerRecord>? {
        state.withLock { $0.customers.first { $0.record.id == id } }
    }
}
