import AMQP
import Contract

/// The broker objects a publishing or a subscribing service declares (idempotently, on every connect).
public enum ReplicationTopology {
    /// The default of how often a quorum queue redelivers a message whose consumer keeps
    /// failing (crashing, or nacking with requeue) before the broker dead-letters it.
    ///
    /// A last resort, far above the consumer's own attempts (``ReplicaConsumerConfiguration/maxAttempts``,
    /// made while it holds the delivery, which the limit does not count): every return of a
    /// delivery counts, a consumer that crashes returns its whole prefetch, and a consumer that
    /// stops consuming through a database outage returns what it held once. So a good event
    /// reaches the dead-letter queue only after a hundred such returns.
    public static let defaultDeliveryLimit = 100

    /// What a service that publishes to `exchange` declares: its fanout exchange
    /// and the dead-letter exchange (its consumer publishes poison there).
    public static func publisher(exchange: String, names: ReplicationNames) -> AMQPTopology {
        AMQPTopology(
            exchanges: [
                .init(name: exchange, kind: .fanout),
                .init(name: names.deadLetterExchange, kind: .direct),
            ],
            queues: [],
            bindings: []
        )
    }

    /// What a service that subscribes to `exchange` through `queue` declares: the
    /// exchange, the quorum queue with its dead-letter arguments and delivery limit,
    /// the dead-letter exchange and queue, and both bindings.
    ///
    /// A queue's arguments cannot change once it exists: a subscriber queue declared before with
    /// another `deliveryLimit` is kept as it is, with a warning (delete the queue, once drained, to change it).
    public static func subscriber(
        exchange: String, queue: String, names: ReplicationNames, deliveryLimit: Int = defaultDeliveryLimit
    ) -> AMQPTopology {
        let deadLetterQueue = names.deadLetterQueue(of: queue)
        return AMQPTopology(
            exchanges: [
                .init(name: exchange, kind: .fanout),
                .init(name: names.deadLetterExchange, kind: .direct),
            ],
            queues: [
                .quorum(
                    name: queue,
                    deadLetterExchange: names.deadLetterExchange,
                    deadLetterRoutingKey: deadLetterQueue,
                    deliveryLimit: deliveryLimit,
                    keepsExistingArguments: true
                ),
                .quorum(name: deadLetterQueue, deadLetterExchange: nil, deadLetterRoutingKey: nil, deliveryLimit: nil),
            ],
            bindings: [
                .init(queue: queue, exchange: exchange),
                .init(queue: deadLetterQueue, exchange: names.deadLetterExchange, routingKey: deadLetterQueue),
            ]
        )
    }
}
