import Contract
import Foundation
import Replication
import ServiceSupport

/// What CustomerService's HTTP API needs from its storage: ``CustomerRepository`` in the
/// service, a store of their own in the HTTP contract tests.
protocol CustomerStore: Sendable {
    /// Creates the customer and its `customer.created` event; with an Idempotency-Key, a repeat
    /// returns the first record. Throws ``CustomerError/emailTaken(_:)`` and ``IdempotencyError``.
    func create(_ customer: NewCustomer, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: CustomerRecord, created: Bool)
    /// Changes customer `id` to its next version with its `customer.updated` event, if `ifMatch`
    /// allows; a patch that changes nothing returns the customer as it is (changed: false, no event).
    /// Throws ``CustomerError/emailTaken(_:)``, ``ChangeRefusal`` (no such customer, another
    /// version) and ``IdempotencyError``.
    func update(
        id: UUID, _ patch: CustomerPatch, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?
    ) async throws -> (record: CustomerRecord, changed: Bool)
    /// Deletes customer `id`, keeping its tombstone, with its `customer.deleted` event, if `ifMatch`
    /// allows. Throws ``ChangeRefusal`` (no such customer, another version) and ``IdempotencyError``.
    func delete(id: UUID, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?) async throws -> Tombstone
    /// The customer `id`, or nil.
    func customer(id: UUID) async throws -> CustomerRecord?
    /// A page of customers, oldest first.
    func customers(after cursor: PageCursor?, limit: Int) async throws -> Page<CustomerRecord>
    /// The replicated orders of customer `customerId`, oldest first.
    func replicaOrders(customerId: UUID, after cursor: PageCursor?, limit: Int) async throws -> Page<Replicated<OrderRecord>>
    /// The replicated order `id`; nil until it has arrived.
    func replicaOrder(id: UUID) async throws -> Replicated<OrderRecord>?
}
