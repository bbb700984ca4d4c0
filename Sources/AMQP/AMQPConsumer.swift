import Logging
import Retry

/// A reconnecting consumer: an `AsyncSequence` of deliveries from one queue that survives broker restarts.
///
/// Iterating connects, declares ``AMQPTopology``, sets the prefetch and consumes with manual
/// acknowledgement. When the connection is lost it reconnects at once, to the next of the
/// configuration's ``AMQPConfiguration/endpoints`` that answers (round-robin from the node it lost,
/// each node once); when none does, it tries again after a capped exponential backoff
/// (``AMQPConfiguration/reconnectInitialDelay`` doubling up to ``AMQPConfiguration/reconnectMaximumDelay``,
/// with jitter) and goes on in the same iteration. The sequence ends when the iterating task is
/// cancelled (the connection is then closed and unacknowledged messages go back to the queue).
///
/// Each delivery must be settled with ``AMQPDelivery/ack()``, ``AMQPDelivery/nack(requeue:)`` or
/// ``AMQPDelivery/reject()``; settling one from a lost connection throws `.connectionClosed`,
/// and the broker redelivers it (consumers must be idempotent).
public struct AMQPConsumer: AsyncSequence, Sendable {
    /// Deliveries, in queue order per connection.
    public typealias Element = AMQPDelivery

    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let queue: String
    private let prefetch: Int
    private let logger: Logger
    private let onConnectionChange: (@Sendable (Bool) -> Void)?

    /// Creates the consumer; nothing happens until iteration starts.
    ///
    /// - Parameters:
    ///   - prefetch: how many unacknowledged deliveries the broker may send ahead (basic.qos).
    ///   - onConnectionChange: called with `true` when consuming starts on a new connection and with
    ///     `false` when that connection is lost or closed (for readiness and metrics).
    public init(
        configuration: AMQPConfiguration, topology: AMQPTopology, queue: String, prefetch: Int, logger: Logger,
        onConnectionChange: (@Sendable (Bool) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.topology = topology
        self.queue = queue
        self.prefetch = prefetch
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(queue)"
        self.logger = logger
        self.onConnectionChange = onConnectionChange
    }

    /// Starts an iteration (each iterator has its own connection).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(run: Run(consumer: self))
    }

    /// The iterator; ``next()`` returns `nil` only when the task is cancelled.
    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let run: Run

        /// The next delivery, reconnecting as often as needed; `nil` once the task is cancelled.
        public mutating func next() async -> AMQPDelivery? {
            await run.next()
        }
    }

    /// The state of one iteration: its connection and stream. Used by one task at a time.
    fileprivate final class Run {
        let consumer: AMQPConsumer
        let backoff: Backoff
        var connection: AMQPConnection?
        var events: AsyncStream<AMQPConsumerEvent>.AsyncIterator?
        /// Failed connection rounds in a row (each tried every node once).
        var failures = 0
        /// Where the next connect starts in the endpoint list: the node after the last one connected to.
        var nextEndpoint = 0
        /// When the current (or last) connection was made.
        var connectedAt: ContinuousClock.Instant?

        init(consumer: AMQPConsumer) {
            self.consumer = consumer
            self.backoff = consumer.configuration.reconnectBackoff
        }

        deinit {
            // The iteration was abandoned without cancellation: let the thread close the connection.
            connection?.loop.requestClose()
        }

        func next() async -> AMQPDelivery? {
            while true {
                if Task.isCancelled {
                    await disconnect()
                    return nil
                }
                if events == nil {
                    if failures > 0 {
                        let delay = backoff.delay(afterFailures: failures)
                        do {
                            try await Task.sleep(for: delay)
                        } catch {
                            await disconnect()
                            return nil
                        }
                    }
                    await connect()
                    continue
                }
                let event = await events?.next()
                switch event {
                case .delivery(let delivery)?:
                    return delivery
                case .closed(let error)?:
                    consumer.logger.warning("AMQP consumer lost its connection; reconnecting", metadata: ["amqp.error": "\(error)"])
                    await disconnect()
                    backOffIfShortLived()
                case nil:
                    await disconnect()
                    if Task.isCancelled { return nil }
                    backOffIfShortLived()
                }
            }
        }

        private func connect() async {
            do {
                let connection = try await AMQPConnection.connect(consumer.configuration, startingAt: nextEndpoint, logger: consumer.logger)
                nextEndpoint = connection.endpointIndex + 1
                do {
                    try await connection.declare(consumer.topology)
                    let stream = try await connection.consume(queue: consumer.queue, prefetch: consumer.prefetch)
                    self.connection = connection
                    self.events = stream.makeAsyncIterator()
                } catch {
                    await connection.close()
                    throw error
                }
                failures = 0
                connectedAt = .now
                consumer.logger.info("AMQP consumer connected", metadata: ["amqp.endpoint": "\(connection.endpointDescription)"])
                consumer.onConnectionChange?(true)
            } catch {
                failures += 1
                consumer.logger.warning("AMQP consumer cannot connect", metadata: ["amqp.error": "\(error)", "amqp.attempt": "\(failures)"])
            }
        }

        /// A connection lost within a second of its start counts as a failure, so the next
        /// connect waits a backoff step: a broker that closes every connection at once must not
        /// be hammered in a tight loop. A longer-lived one reconnects at once (a node's loss).
        private func backOffIfShortLived() {
            if let connectedAt, ContinuousClock.now - connectedAt < .seconds(1) { failures = 1 }
        }

        private func disconnect() async {
            events = nil
            guard let connection else { return }
            self.connection = nil
            await connection.close()
            consumer.onConnectionChange?(false)
        }
    }
}
