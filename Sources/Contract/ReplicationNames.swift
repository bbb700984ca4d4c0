import Foundation

/// The broker names of the contract: exchanges, subscriber queues and dead-lettering.
///
/// | | customers | orders |
/// | --- | --- | --- |
/// | exchange (fanout, durable) | `customer.events` | `order.events` |
/// | subscriber queue (quorum) | `order-service.customer-events` | `customer-service.order-events` |
/// | its dead-letter queue | `order-service.customer-events.dead` | `customer-service.order-events.dead` |
///
/// A non-empty `prefix` is prepended to every name; only tests use it, to keep
/// their broker objects apart from each other's.
public struct ReplicationNames: Hashable, Sendable {
    /// Prepended to every name; empty in production.
    public var prefix: String

    /// The contract's names, optionally prefixed.
    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// `customer.events`: CustomerService publishes `customer.created` here.
    public var customerEvents: String { prefix + "customer.events" }
    /// `order.events`: OrderService publishes `order.created` here.
    public var orderEvents: String { prefix + "order.events" }
    /// `order-service.customer-events`: OrderService's subscription to `customer.events`.
    public var customerEventsQueue: String { prefix + "order-service.customer-events" }
    /// `customer-service.order-events`: CustomerService's subscription to `order.events`.
    public var orderEventsQueue: String { prefix + "customer-service.order-events" }
    /// `replication.dlx`: the durable direct exchange every subscriber queue dead-letters to.
    public var deadLetterExchange: String { prefix + "replication.dlx" }

    /// The dead-letter queue (and the routing key to it) of `queue`: `<queue>.dead`.
    public func deadLetterQueue(of queue: String) -> String { queue + ".dead" }

    /// The queue through which `subscriber` (a service name such as `order-service`) takes the
    /// events of `exchange`: `<prefix><subscriber>.<exchange with - for .>`, as
    /// `order-service.customer-events` for customer.events.
    public func queue(of subscriber: String, for exchange: KeyPath<ReplicationNames, String>) -> String {
        queue(of: subscriber, forExchangeNamed: ReplicationNames()[keyPath: exchange])
    }

    /// ``queue(of:for:)`` of the exchange whose unprefixed name is `exchange` (`customer.events`).
    public func queue(of subscriber: String, forExchangeNamed exchange: String) -> String {
        prefix + subscriber + "." + exchange.replacingOccurrences(of: ".", with: "-")
    }
}
