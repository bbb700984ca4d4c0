import Contract
import Foundation
import Replication
import ServiceSupport
import Synchronization

@testable import CustomerService

/// CustomerService's storage kept in memory, with the rules the HTTP contract depends on
/// (emails unique in any case, Idempotency-Keys, paging): the HTTP layer is tested
/// without a database; ``CustomerRepository`` itself is tested end to end.
final class InMemoryCustomerStore: CustomerStore {
    private struct State {
        var customers: [CustomerRecord] = []
        var orders: [Replicated<OrderRecord>] = []
        var keys: [String: (IdempotentRequest, CustomerRecord)] = [:]
    }

    private let state = Mutex(State())

    /// Puts a replicated order in place, as the consumer would.
    func replicate(_ order: OrderRecord) {
        state.withLock { $0.orders.append(Replicated(record: order, replicatedAt: Date(), eventId: UUID(), requestId: nil)) }
    }

    /// The customers created so far.
    var customers: [CustomerRecord] { state.withLock { $0.customers } }

    func create(_ customer: NewCustomer, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: CustomerRecord, created: Bool) {
        try state.withLock { state in
            if let idempotency, let (first, record) = state.keys[idempotency.key] {
                guard first.operation == idempotency.operation, first.fingerprint == idempotency.fingerprint else { throw IdempotencyError.reused }
                return (record, false)
            }
            guard !state.customers.contains(where: { $0.email.lowercased() == customer.email.lowercased() }) else {
                throw CustomerError.emailTaken(customer.email)
            }
            let record = CustomerRecord(
                id: UUID(), name: customer.name, email: customer.email, creditLimit: customer.creditLimit,
                createdAt: Date(timeIntervalSince1970: Double(1_800_000_000 + state.customers.count))
            )
            state.customers.append(record)
            if let idempotency { state.keys[idempotency.key] = (idempotency, record) }
            return (record, true)
        }
    }

    func customer(id: UUID) async throws -> CustomerRecord? {
        state.withLock { $0.customers.first { $0.id == id } }
    }

    func customers(after cursor: PageCursor?, limit: Int) async throws -> Page<CustomerRecord> {
        let all = state.withLock { $0.customers }
        let start = cursor.map { cursor in all.firstIndex { $0.id == cursor.id }.map { $0 + 1 } ?? all.count } ?? 0
        return Page(fetched: Array(all[start...].prefix(limit + 1)), limit: limit) { PageCursor(createdAt: $0.createdAt, id: $0.id) }
    }

    func replicaOrders(customerId: UUID) async throws -> [Replicated<OrderRecord>] {
        state.withLock { $0.orders.filter { $0.record.customerId == customerId } }
    }

    func replicaOrder(id: UUID) async throws -> Replicated<OrderRecord>? {
        state.withLock { $0.orders.first { $0.record.id == id } }
    }
}
