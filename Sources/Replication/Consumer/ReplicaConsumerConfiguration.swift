import AMQP
import Contract
import Retry

/// What a ``ReplicaConsumer`` consumes, and how.
public struct ReplicaConsumerConfiguration: Sendable {
    /// The subscriber queue.
    public var queue: String
    /// What to declare on every connect (see ``ReplicationTopology/subscriber(exchange:queue:names:)``).
    public var topology: AMQPTopology
    /// The dead-letter exchange poison goes to.
    public var deadLetterExchange: String
    /// The routing key poison goes with (`<queue>.dead`).
    public var deadLetterRoutingKey: String
    /// Unacked deliveries the broker may send ahead (basic.qos).
    public var prefetch: Int = 100
    /// Batches applied at once, each in its own transaction on its own pooled connection.
    public var concurrency: Int = 4
    /// The most deliveries applied in one transaction.
    public var batchSize: Int = 50
    /// Attempts at a delivery that fails with a non-transient error before it is dead-lettered.
    public var maxAttempts: Int = 5
    /// The delays between retries of a batch whose database work failed.
    public var retry: Backoff = Backoff()
    /// The broker user whose events this consumer accepts (the `user_id` RabbitMQ validated);
    /// an event from anyone else is dead-lettered as `unauthenticated-publisher`. Nil accepts any.
    public var acceptedPublisher: String?

    /// Creates a configuration for `queue` from the contract's names.
    public init(
        exchange: String, queue: String, names: ReplicationNames,
        prefetch: Int = 100, concurrency: Int = 4, batchSize: Int = 50, maxAttempts: Int = 5,
        deliveryLimit: Int = ReplicationTopology.defaultDeliveryLimit,
        retry: Backoff = Backoff(), acceptedPublisher: String? = nil
    ) {
        self.queue = queue
        self.topology = ReplicationTopology.subscriber(exchange: exchange, queue: queue, names: names, deliveryLimit: deliveryLimit)
        self.deadLetterExchange = names.deadLetterExchange
        self.deadLetterRoutingKey = names.deadLetterQueue(of: queue)
        self.prefetch = prefetch
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.maxAttempts = maxAttempts
        self.retry = retry
        self.acceptedPublisher = acceptedPublisher
    }
}
