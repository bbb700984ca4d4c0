/// The event types of the contract: `<entity>.<verb in past tense>`.
public enum EventType: String, Sendable, CaseIterable {
    /// A customer was created at CustomerService; `data` is a ``CustomerRecord``.
    case customerCreated = "customer.created"
    /// An order was created at OrderService; `data` is an ``OrderRecord``.
    case orderCreated = "order.created"
    /// A customer changed at CustomerService; `data` is the whole ``CustomerRecord`` at its new version.
    case customerUpdated = "customer.updated"
    /// A customer was deleted at CustomerService; `data` is its ``Tombstone``.
    case customerDeleted = "customer.deleted"
    /// An order was cancelled at OrderService; `data` is the whole ``OrderRecord`` at its new version.
    case orderCancelled = "order.cancelled"
    /// CustomerService's current state of a customer, sent by a resync straight to one subscriber's queue;
    /// `data` is the whole ``CustomerRecord``, or the ``Tombstone`` of a deleted one.
    case customerSnapshot = "customer.snapshot"
    /// OrderService's current state of an order, sent by a resync; `data` is the whole ``OrderRecord``.
    case orderSnapshot = "order.snapshot"
}
