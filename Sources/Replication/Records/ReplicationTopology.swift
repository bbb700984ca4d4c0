import AMQP
import Contract

/// The broker objects a publishing or a subscribing service declares (idempotently, on every connect).
public enum ReplicationTopology {
    /// The default of how often a quorum queue redelivers a message whose consumer keeps
    /// failing (crashing, or nacking with requeue) before the broker dead-letters it.
    public static let defaultDeliveryLimit = 20

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
    /// A queue's arguments cannot change once it exists: declaring it again with another
    /// `deliveryLimit` fails with 406 PRECONDITION_FAILED (delete the queue first).
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
                    deliveryLimit: deliveryLimit
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
