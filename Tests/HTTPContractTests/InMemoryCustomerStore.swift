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
    private let customers = Mutex(InMemoryRecords<CustomerRecord>())
    /// The replica of orders.
    let replicaOrders = InMemoryReplica<OrderRecord>()

    /// The customers created so far.
    var all: [CustomerRecord] { customers.withLock { $0.all } }

    func create(_ customer: NewCustomer, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: CustomerRecord, created: Bool) {
        try customers.withLock { customers in
            if let first = try customers.repeated(idempotency) { return (first, false) }
            guard !customers.all.contains(where: { $0.email.lowercased() == customer.email.lowercased() }) else {
                throw CustomerError.emailTaken(customer.email)
            }
            let record = CustomerRecord(
                id: UUID(), name: customer.name, email: customer.email, creditLimit: customer.creditLimit, createdAt: customers.nextCreatedAt
            )
            customers.insert(record, idempotency: idempotency)
            return (record, true)
        }
    }

    func update(
        id: UUID, _ patch: CustomerPatch, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?
    ) async throws -> (record: CustomerRecord, changed: Bool) {
        try customers.withLock { customers in
            let others = customers.all.filter { $0.id != id }
            return try customers.change(id: id, ifMatch: ifMatch, idempotency: idempotency) { customer in
                customer = patch.applied(to: customer)
                let email = customer.email.lowercased()
                guard !others.contains(where: { $0.email.lowercased() == email }) else { throw CustomerError.emailTaken(customer.email) }
            }
        }
    }

    func delete(id: UUID, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?) async throws -> Tombstone {
        try customers.withLock { try $0.delete(id: id, ifMatch: ifMatch, idempotency: idempotency) }
    }

    func customer(id: UUID) async throws -> CustomerRecord? {
        all.first { $0.id == id }
    }

    func customers(after cursor: PageCursor?, limit: Int) async throws -> Page<CustomerRecord> {
        InMemoryRecords.page(all, after: cursor, limit: limit, createdAt: \.createdAt)
    }

    func replicaOrders(customerId: UUID, after cursor: PageCursor?, limit: Int) async throws -> Page<Replicated<OrderRecord>> {
        let records = replicaOrders.records { $0.customerId == customerId }
        let start = cursor.map { cursor in records.firstIndex { $0.record.id == cursor.id }.map { $0 + 1 } ?? records.count } ?? 0
        return Page(fetched: Array(records[start...].prefix(limit + 1)), limit: limit) {
            PageCursor(createdAt: $0.record.createdAt, id: $0.record.id)
        }
    }

    func replicaOrder(id: UUID) async throws -> Replicated<OrderRecord>? {
        replicaOrders.record(id: id)
    }
}
