/// A message received with basic.deliver (``AMQPConsumer``) or basic.get (``AMQPConnection/get(queue:)``),
/// to be settled exactly once with ``ack()``, ``nack(requeue:)`` or ``reject()``.
public struct AMQPDelivery: Sendable {
    /// The body bytes.
    public var body: [UInt8]
    /// The message's properties and headers.
    public var properties: AMQPProperties
    /// The exchange the message was published to.
    public var exchange: String
    /// The routing key it was published with.
    public var routingKey: String
    /// The channel-scoped tag that acknowledgements refer to.
    public var deliveryTag: UInt64
    /// Whether the broker delivered this message before (it was requeued or its consumer died).
    public var redelivered: Bool

    private let loop: AMQPConnectionLoop
    private let generation: UInt64

    init(_ raw: AMQPRawDelivery, loop: AMQPConnectionLoop, generation: UInt64) {
        body = raw.body
        properties = raw.properties
        exchange = raw.exchange
        routingKey = raw.routingKey
        deliveryTag = raw.deliveryTag
        redelivered = raw.redelivered
        self.loop = loop
        self.generation = generation
    }

    /// Acknowledges the message: the broker forgets it.
    ///
    /// - Throws: ``AMQPError`` `.connectionClosed` (or `.channelClosed`) when the connection or
    ///   channel it came from is gone; the broker then redelivers the message anyway.
    public func ack() async throws {
        try await settle { handle, tag in try handle.ack(deliveryTag: tag, multiple: false) }
    }

    /// Acknowledges several messages with one hand-over to their connection's thread (one
    /// basic.ack each, never `multiple`, so deliveries that other tasks still hold stay unacked).
    ///
    /// - Throws: like ``ack()``, after acknowledging every delivery whose connection is still open.
    public static func ack(_ deliveries: [AMQPDelivery]) async throws {
        var firstError: (any Error)?
        for group in Dictionary(grouping: deliveries, by: { ObjectIdentifier($0.loop) }).values {
            let loop = group[0].loop
            let tags = group.map { (tag: $0.deliveryTag, generation: $0.generation) }
            do {
                try await loop.execute { loop in
                    var firstError: (any Error)?
                    for (tag, generation) in tags {
                        do {
                            try loop.checkGeneration(generation)
                            try loop.connectionHandle.ack(deliveryTag: tag, multiple: false)
                        } catch {
                            firstError = firstError ?? error
                        }
                    }
                    if let firstError { throw firstError }
                }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Negatively acknowledges the message: requeue it (it comes back with ``redelivered`` set),
    /// or dead-letter it when `requeue` is false.
    ///
    /// - Throws: like ``ack()``.
    public func nack(requeue: Bool) async throws {
        try await settle { handle, tag in try handle.nack(deliveryTag: tag, multiple: false, requeue: requeue) }
    }

    /// Rejects the message without requeueing: the queue's dead-letter exchange gets it (or it is dropped when the queue has none).
    ///
    /// - Throws: like ``ack()``.
    public func reject() async throws {
        try await settle { handle, tag in try handle.reject(deliveryTag: tag, requeue: false) }
    }

    /// Runs `settlement` with the delivery tag on the connection's thread, once the channel the
    /// message came on is known to be still open (on a reopened channel the tag means nothing).
    private func settle(_ settlement: @escaping @Sendable (AMQPConnectionHandle, UInt64) throws -> Void) async throws {
        let tag = deliveryTag
        let generation = generation
        try await loop.execute { loop in
            try loop.checkGeneration(generation)
            try settlement(loop.connectionHandle, tag)
        }
    }
}
