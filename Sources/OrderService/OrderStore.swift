import Contract
import Foundation
import Replication
import ServiceSupport

/// What OrderService's HTTP API needs from its storage: ``OrderRepository`` in the service,
/// a store of their own in the HTTP contract tests.
protocol OrderStore: Sendable {
    /// Creates the order, if its customer is in the replica (and not deleted), and its `order.created` event; with an
    /// Idempotency-Key, a repeat returns the first record. Throws ``OrderError/unknownCustomer(_:)``
    /// and ``IdempotencyError``.
    func create(_ order: NewOrder, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, created: Bool)
    /// Cancels order `id` (its next version) with its `order.cancelled` event, if `ifMatch` allows.
    /// Throws ``OrderError/invalidState(_:status:)`` for an order already cancelled, ``ChangeRefusal``
    /// (no such order, another version) and ``IdempotencyError``.
    func cancel(id: UUID, ifMatch: IfMatch?, requestId: String, idempotency: IdempotentRequest?) async throws -> (record: OrderRecord, changed: Bool)
    /// The order `id`, or nil.
    func order(id: UUID) async throws -> OrderRecord?
    /// A page of orders, of one customer or of all, oldest first.
    func orders(customerId: UUID?, after cursor: PageCursor?, limit: Int) async throws -> Page<OrderRecord>
    /// The replicated customer `id`; nil until it has arrived, and once it is deleted.
    func replicaCustomer(id: UUID) async throws -> Replicated<CustomerRecord>?
    /// The replicated tombstone of customer `id`, once its deletion has arrived.
    func replicaCustomerTombstone(id: UUID) async throws -> Replicated<Tombstone>?
}
