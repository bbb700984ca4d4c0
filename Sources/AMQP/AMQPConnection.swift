import Logging

/// One broker connection with one channel in publisher-confirm mode.
///
/// Every rabbitmq-c call runs on the connection's own dedicated thread (see ``AMQPConnectionLoop``),
/// never on Swift's cooperative pool; these async methods queue work for that thread and await
/// its result. Methods may be called from any task concurrently: they run one after another, and
/// acknowledgements interleave with deliveries and confirms.
///
/// Close it with ``close()`` when done (``deinit`` asserts that you did). A connection does not
/// reconnect; ``AMQPPublisher`` and ``AMQPConsumer`` do that on top of it.
public final class AMQPConnection: Sendable {
    let loop: AMQPConnectionLoop
    private let logger: Logger

    private init(loop: AMQPConnectionLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
    }

    deinit {
        assert(!loop.isOpen || loop.closeWasRequested, "AMQPConnection released without close()")
        loop.requestClose()
    }

    /// Connects to the first node that answers, logs in, opens a channel and enables publisher confirms.
    ///
    /// Tries the configuration's ``AMQPConfiguration/endpoints`` once each, in order, starting at
    /// `firstEndpoint` and wrapping around (one round); it does not wait between them, and stops
    /// early when the task is cancelled. Each node gets its own ``AMQPConfiguration/connectTimeout``.
    ///
    /// - Parameter firstEndpoint: the position in ``AMQPConfiguration/endpoints`` to start at
    ///   (reduced modulo their count): 0 at first, the node after the lost one to reconnect.
    /// - Throws: ``AMQPError`` with `.connectionRefused`, `.timeout` (``AMQPConfiguration/connectTimeout``),
    ///   `.authenticationFailed`, `.accessRefused` (unknown vhost or no permission; the broker's text is in the message),
    ///   `.invalidConfiguration` (no endpoints). With several nodes: the code of the last node's
    ///   failure, and every node's failure in the message.
    public static func connect(_ configuration: AMQPConfiguration, startingAt firstEndpoint: Int = 0, logger: Logger) async throws -> AMQPConnection {
        let endpoints = configuration.endpoints
        guard !endpoints.isEmpty else {
            throw AMQPError(.invalidConfiguration, "no broker node configured (the endpoint list is empty)")
        }
        var failures: [AMQPError] = []
        for offset in 0..<endpoints.count {
            let index = ((firstEndpoint + offset) % endpoints.count + endpoints.count) % endpoints.count
            do {
                let loop = try AMQPConnectionLoop(configuration: configuration, endpoint: endpoints[index], logger: logger)
                try await loop.start()
                return AMQPConnection(loop: loop, logger: loop.logger)
            } catch {
                let failure = error as? AMQPError ?? AMQPError(.protocolError, "\(error)")
                failures.append(failure)
                if endpoints.count > 1 {
                    logger.debug(
                        "AMQP node did not answer",
                        metadata: ["amqp.endpoint": "\(configuration.description(of: endpoints[index]))", "amqp.error": "\(failure)"])
                }
                if Task.isCancelled { break }
            }
        }
        guard failures.count > 1, let last = failures.last else { throw failures[0] }
        let all = failures.map(\.message).joined(separator: "; ")
        throw AMQPError(last.code, "none of the \(endpoints.count) broker nodes answered: \(all)", replyCode: last.replyCode)
    }

    /// The node this connection goes to.
    public var endpoint: AMQPConfiguration.Endpoint { loop.endpoint }

    /// The position of ``endpoint`` in ``AMQPConfiguration/endpoints`` (a node is listed once).
    public var endpointIndex: Int { loop.configuration.endpoints.firstIndex(of: loop.endpoint) ?? 0 }

    /// `host:port/vhost` of ``endpoint``, for logs (the `amqp.endpoint` metadata).
    public var endpointDescription: String { loop.configuration.description(of: loop.endpoint) }

    /// Whether the connection is still usable (false once it failed or was closed).
    public var isOpen: Bool { loop.isOpen }

    /// Whether the broker blocks publishing on this connection (connection.blocked, sent during a
    /// memory or disk alarm); publishes fail at once with `.blocked` until it lifts.
    public var isBlocked: Bool { loop.isBlocked }

    /// Declares exchanges, then queues, then bindings; idempotent when they exist with the same settings.
    ///
    /// An exchange the user may not configure (403) is only checked to exist (a passive declare):
    /// a least-privilege user binds its queue to a peer's exchange that was provisioned for it.
    /// A queue that ``AMQPTopology/Queue/keepsExistingArguments`` and exists with other arguments
    /// is only checked to exist too.
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with reply code 406 (PRECONDITION_FAILED) when one
    ///   exists with other settings, or 404 when an exchange it may not declare does not exist;
    ///   the channel is reopened for the next call.
    public func declare(_ topology: AMQPTopology) async throws {
        try await loop.execute { loop in
            let handle = loop.connectionHandle
            for exchange in topology.exchanges {
                do {
                    try handle.declare(exchange)
                } catch let error as AMQPError where error.code == .channelClosed && error.replyCode == 403 {
                    // Not ours to configure (a peer's exchange, under a least-privilege user): it must
                    // exist already, provisioned with the topology; check that it does.
                    try loop.reopenClosedChannel()
                    try handle.declarePassively(exchange)
                }
            }
            for queue in topology.queues {
                do {
                    try handle.declare(queue)
                } catch let error as AMQPError where error.code == .channelClosed && error.replyCode == 406 && queue.keepsExistingArguments {
                    try loop.reopenClosedChannel()
                    _ = try handle.counts(queue: queue.name)
                    loop.logger.warning(
                        "queue exists with other arguments; kept as it is", metadata: ["amqp.queue": "\(queue.name)", "amqp.error": "\(error)"])
                }
            }
            for binding in topology.bindings { try handle.declare(binding) }
        }
    }

    /// Publishes one message and returns once the broker confirmed it.
    public func publish(_ message: AMQPMessage) async throws {
        try await loop.publish([message])
    }

    /// Publishes the messages in order, pipelined: up to ``AMQPConfiguration/confirmWindow`` await
    /// their confirm at once. Returns when every one is confirmed.
    ///
    /// - Throws: ``AMQPError`` `.nacked` (the broker refused one), `.channelClosed` (e.g. 404 for a
    ///   missing exchange), `.connectionClosed`, or `.timeout` when no confirm arrived for
    ///   ``AMQPConfiguration/confirmTimeout`` (the connection is then dropped). It never hangs.
    ///   After an error, any of the messages may or may not have reached the broker.
    public func publish(_ messages: [AMQPMessage]) async throws {
        try await loop.publish(messages)
    }

    /// Publishes the messages in order with nothing else on the channel meanwhile: they are sent
    /// once every earlier message is confirmed, and later ones wait until these are. A refusal
    /// (a nack, or a 406 that closes the channel) is then theirs, not another caller's; the
    /// callers that waited are not failed by it, and go on on the reopened channel.
    public func publishAlone(_ messages: [AMQPMessage]) async throws {
        try await loop.publish(messages, alone: true)
    }

    /// Publishes the messages like `publish(_ messages:)`, except that a message the broker
    /// nacks does not fail the call: it returns the positions of the nacked messages, in the
    /// order of their nacks; the others are confirmed.
    public func publishCollectingNacks(_ messages: [AMQPMessage]) async throws -> [Int] {
        try await loop.publish(messages, collectingNacks: true)
    }

    /// The number of ready messages in a queue (a passive declare).
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with reply code 404 when the queue does not exist.
    public func messageCount(queue: String) async throws -> Int {
        try await counts(queue: queue).messages
    }

    /// The ready messages and the consumers of a queue (a passive declare).
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with reply code 404 when the queue does not exist.
    public func counts(queue: String) async throws -> AMQPQueueCounts {
        try await loop.execute { try $0.connectionHandle.counts(queue: queue) }
    }

    /// Removes all ready messages from a queue; returns how many were removed.
    @discardableResult
    public func purge(queue: String) async throws -> Int {
        try await loop.execute { try $0.connectionHandle.purge(queue: queue) }
    }

    /// Deletes a queue (and its messages); returns how many messages it held. Deleting a missing queue succeeds.
    @discardableResult
    public func delete(queue: String) async throws -> Int {
        try await loop.execute { try $0.connectionHandle.delete(queue: queue) }
    }

    /// Deletes an exchange. Deleting a missing exchange succeeds.
    public func delete(exchange: String) async throws {
        try await loop.execute { try $0.connectionHandle.delete(exchange: exchange) }
    }

    /// Fetches one message with basic.get (manual acknowledgement), or `nil` when the queue is empty.
    public func get(queue: String) async throws -> AMQPDelivery? {
        try await loop.execute { loop in
            try loop.connectionHandle.get(queue: queue).map { AMQPDelivery($0, loop: loop, generation: loop.channelGeneration) }
        }
    }

    /// Sets the prefetch and starts consuming `queue` with manual acknowledgement.
    ///
    /// The stream yields deliveries in order and ends with `.closed` when the channel or connection
    /// goes away. One consumer per connection.
    func consume(queue: String, prefetch: Int) async throws -> AsyncStream<AMQPConsumerEvent> {
        try await loop.execute { try $0.startConsuming(queue: queue, prefetch: prefetch) }
    }

    /// Waits until the connection has ended; returns the failure that ended it, or `nil` after ``close()``.
    public func waitUntilClosed() async -> AMQPError? {
        await loop.waitUntilClosed()
    }

    /// Closes channel and connection (unacknowledged deliveries go back to their queues) and ends the thread.
    ///
    /// Pending publishes fail with `.connectionClosed`. Safe to call more than once, and after a failure.
    public func close() async {
        loop.requestClose()
        _ = await loop.waitUntilClosed()
    }
}

/// What a passive `queue.declare` tells of a queue.
public struct AMQPQueueCounts: Sendable, Hashable {
    /// Messages ready for delivery (not those delivered and not yet acknowledged).
    public var messages: Int
    /// Consumers attached.
    public var consumers: Int
}
