import AMQP
import Logging
import ServiceLifecycle
import Synchronization

/// How many messages wait in a service's queue and in its dead-letter queue, read from the
/// broker (a passive declare each). The status shows them next to the drain rate, so an operator
/// sees how long a catch-up will take. A broker that does not answer gives no figures, not an
/// error: the rest of the status comes from the database.
///
/// It keeps one connection for its readings (opened on the first, again after a failure), and
/// runs in the service group so that the connection is closed at shutdown.
public final class QueueDepths: Service, Sendable {
    /// The depths.
    public struct Reading: Sendable, Hashable {
        public var queue: Int
        public var deadLetters: Int
    }

    /// The queues, and how to reach the broker.
    let queues: DeadLetters
    private let connection = Mutex<AMQPConnection?>(nil)
    private let closed = Mutex(false)

    /// The depths of `queues`' queue and dead-letter queue.
    public init(of queues: DeadLetters) {
        self.queues = queues
    }

    /// Both depths, or nil when the broker did not answer.
    public func read() async -> Reading? {
        do {
            let current = try await open()
            do {
                return Reading(
                    queue: try await current.messageCount(queue: queues.queue),
                    deadLetters: try await current.messageCount(queue: queues.deadLetterQueue))
            } catch {
                let dropped = connection.withLock { kept -> Bool in
                    guard kept === current else { return false }
                    kept = nil
                    return true
                }
                if dropped { await current.close() }
                throw error
            }
        } catch {
            queues.logger.debug("queue depths unavailable", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Waits for the graceful shutdown, then closes the connection.
    public func run() async throws {
        try? await gracefulShutdown()
        closed.withLock { $0 = true }
        if let current = connection.withLock({ state -> AMQPConnection? in
            defer { state = nil }
            return state
        }) {
            await current.close()
        }
    }

    private func open() async throws -> AMQPConnection {
        if let current = connection.withLock({ $0 }), current.isOpen { return current }
        guard !closed.withLock({ $0 }) else { throw AMQPError(.shutdown, "the service is shutting down") }
        let fresh = try await AMQPConnection.connect(queues.amqp, logger: queues.logger)
        // Another reading may have connected meanwhile: keep one connection, close the other.
        let spare = connection.withLock { current -> AMQPConnection? in
            if let current, current.isOpen { return fresh }
            current = fresh
            return nil
        }
        if let spare {
            await spare.close()
            return try await open()
        }
        return fresh
    }
}
