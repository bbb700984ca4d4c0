import Logging
import Retry
import ServiceLifecycle
import Synchronization

/// A publisher that owns one connection, connects lazily, reconnects with capped exponential
/// backoff and declares its topology on every (re)connect. Run it in a `ServiceGroup` (after the
/// services that publish through it, so it closes last).
///
/// With several broker nodes (``AMQPConfiguration/endpoints``) it connects to the first that
/// answers; after losing a connection it tries the next node at once, then the others in turn,
/// and backs off only when none answered.
///
/// ``publish(_:)`` never waits for the broker to come back: while it is unreachable, a call
/// fails within about ``AMQPConfiguration/connectTimeout`` per node (plus ``AMQPConfiguration/confirmTimeout``
/// when the connection dies mid-publish), and calls inside the backoff delay fail at once with
/// the last error. Messages that awaited their confirm when the connection was lost fail with
/// it (they may or may not have arrived); callers (the outbox relay) publish them again later.
public final class AMQPPublisher: Service, Sendable {
    private struct State {
        var connection: AMQPConnection?
        var connecting: Task<AMQPConnection, any Error>?
        var failures = 0
        var retryAt: ContinuousClock.Instant?
        var lastError: AMQPError?
        var shutdown = false
        /// Where the next connect starts in the endpoint list: the node after the last one connected to.
        var nextEndpoint = 0
    }

    private enum Next {
        case use(AMQPConnection)
        case wait(Task<AMQPConnection, any Error>)
        case fail(AMQPError)
    }

    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let logger: Logger
    private let backoff: Backoff
    private let state = Mutex(State())

    /// Creates the publisher; it connects on the first ``publish(_:)`` or when ``run()`` starts.
    public init(configuration: AMQPConfiguration, topology: AMQPTopology, logger: Logger) {
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
        self.backoff = configuration.reconnectBackoff
    }

    /// Whether a connection is open right now (for readiness reports; the next publish may still fail).
    public var isConnected: Bool {
        state.withLock { $0.connection?.isOpen ?? false }
    }

    /// Whether the broker blocks this publisher's connection (a memory or disk alarm, for readiness and metrics).
    public var isBlocked: Bool {
        state.withLock { $0.connection?.isBlocked ?? false }
    }

    /// Keeps a connection open (reconnecting with backoff when it drops) until graceful shutdown
    /// or cancellation, then closes it.
    public func run() async throws {
        _ = await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                await self.maintainConnection()
            } onCancel: {
                self.beginShutdown()
            }
        }
        beginShutdown()
        await closeConnection()
    }

    /// Publishes the messages in order with publisher confirms (pipelined); returns when all are confirmed.
    ///
    /// - Throws: ``AMQPError``: the connect error while the broker is unreachable, `.nacked`,
    ///   `.timeout`, `.connectionClosed`, `.channelClosed`, or `.shutdown` after shutdown began.
    ///   After an error, any of the messages may or may not have been delivered (publish again: consumers deduplicate).
    public func publish(_ messages: [AMQPMessage]) async throws {
        try await publish(messages, alone: false)
    }

    /// Publishes the messages like ``publish(_:)``, with nothing else of this publisher in flight
    /// meanwhile (``AMQPConnection/publishAlone(_:)``): a refusal is then caused by one of these
    /// messages, and another caller's message cannot make them fail.
    public func publishAlone(_ messages: [AMQPMessage]) async throws {
        try await publish(messages, alone: true)
    }

    /// Publishes the messages like ``publish(_:)``, except that a nack does not fail the call:
    /// returns the positions of the messages the broker nacked (``AMQPConnection/publishCollectingNacks(_:)``).
    public func publishCollectingNacks(_ messages: [AMQPMessage]) async throws -> [Int] {
        try await publish(messages, alone: false, collectingNacks: true)
    }

    @discardableResult
    private func publish(_ messages: [AMQPMessage], alone: Bool, collectingNacks: Bool = false) async throws -> [Int] {
        let connection = try await currentConnection()
        do {
            if collectingNacks {
                return try await connection.publishCollectingNacks(messages)
            } else if alone {
                try await connection.publishAlone(messages)
            } else {
                try await connection.publish(messages)
            }
            return []
        } catch let error as AMQPError {
            // 404 NOT_FOUND: an exchange was deleted under the connection. Reconnecting declares the
            // topology again, so the next publish finds it (the loop alone would only reopen the channel).
            if error.isConnectionFatal || !connection.isOpen || error.replyCode == 404 {
                await drop(connection)
            }
            throw error
        }
    }

    // MARK: Connection management

    private func currentConnection() async throws -> AMQPConnection {
        let next: Next = state.withLock { state in
            if state.shutdown { return .fail(AMQPError(.shutdown, "the publisher is shut down")) }
            if let connection = state.connection, connection.isOpen { return .use(connection) }
            if let connecting = state.connecting { return .wait(connecting) }
            if let retryAt = state.retryAt, ContinuousClock.now < retryAt, let lastError = state.lastError {
                return .fail(lastError)
            }
            let task = Task { try await self.connect() }
            state.connecting = task
            return .wait(task)
        }
        switch next {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let task):
            return try await task.value
        }
    }

    /// Connects and declares the topology; records the outcome for the backoff. Runs in the `connecting` task.
    private func connect() async throws -> AMQPConnection {
        do {
            let firstEndpoint = state.withLock { $0.nextEndpoint }
            let connection = try await AMQPConnection.connect(configuration, startingAt: firstEndpoint, logger: logger)
            state.withLock { $0.nextEndpoint = connection.endpointIndex + 1 }
            do {
                try await connection.declare(topology)
            } catch {
                await connection.close()
                throw error
            }
            let (previous, shutdown) = state.withLock { state in
                let previous = state.connection
                state.connecting = nil
                state.failures = 0
                state.retryAt = nil
                state.lastError = nil
                if !state.shutdown { state.connection = connection }
                return (previous, state.shutdown)
            }
            if let previous { await previous.close() }
            if shutdown {
                await connection.close()
                throw AMQPError(.shutdown, "the publisher is shut down")
            }
            logger.info("AMQP publisher connected", metadata: ["amqp.endpoint": "\(connection.endpointDescription)"])
            return connection
        } catch {
            let amqpError = error as? AMQPError ?? AMQPError(.protocolError, "\(error)")
            let delay = state.withLock { state in
                state.connecting = nil
                state.failures += 1
                let delay = backoff.delay(afterFailures: state.failures)
                state.retryAt = .now + delay
                state.lastError = amqpError
                return delay
            }
            logger.warning("AMQP publisher cannot connect", metadata: ["amqp.error": "\(amqpError)", "amqp.retry_in": "\(delay)"])
            throw amqpError
        }
    }

    /// Forgets a failed connection (if it is still the current one) and closes it.
    private func drop(_ connection: AMQPConnection) async {
        state.withLock { state in
            if state.connection === connection { state.connection = nil }
        }
        await connection.close()
    }

    private func maintainConnection() async {
        while !state.withLock({ $0.shutdown }) && !Task.isCancelled {
            do {
                let connection = try await currentConnection()
                if let reason = await connection.waitUntilClosed() {
                    logger.warning("AMQP publisher connection lost", metadata: ["amqp.error": "\(reason)"])
                }
                await drop(connection)
            } catch {
                let retryAt = state.withLock { $0.retryAt } ?? (.now + backoff.initial)
                do {
                    try await Task.sleep(until: retryAt, clock: .continuous)
                } catch {
                    return
                }
            }
        }
    }

    private func beginShutdown() {
        let connection = state.withLock { state in
            state.shutdown = true
            return state.connection
        }
        connection?.loop.requestClose()
    }

    private func closeConnection() async {
        let (connection, connecting) = state.withLock { state in
            let result = (state.connection, state.connecting)
            state.connection = nil
            return result
        }
        if let connecting, let late = try? await connecting.value { await late.close() }
        await connection?.close()
    }
}
