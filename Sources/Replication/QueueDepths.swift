import AMQP
import Logging

/// How many messages wait in a service's queue and in its dead-letter queue, read from the
/// broker (a passive declare each). The status shows them next to the drain rate, so an operator
/// sees how long a catch-up will take. The status is read at most once a second, so a short
/// connection per reading costs little. A broker that does not answer gives no figures, not an
/// error: the rest of the status comes from the database.
public struct QueueDepths: Sendable {
    /// The depths.
    public struct Reading: Sendable, Hashable {
        public var queue: Int
        public var deadLetters: Int
    }

    /// The queues, and how to reach the broker.
    let queues: DeadLetters

    /// The depths of `queues`' queue and dead-letter queue.
    public init(of queues: DeadLetters) {
        self.queues = queues
    }

    /// Both depths, or nil when the broker did not answer.
    public func read() async -> Reading? {
        do {
            let connection = try await AMQPConnection.connect(queues.amqp, logger: queues.logger)
            do {
                let reading = Reading(
                    queue: try await connection.messageCount(queue: queues.queue),
                    deadLetters: try await connection.messageCount(queue: queues.deadLetterQueue))
                await connection.close()
                return reading
            } catch {
                await connection.close()
                throw error
            }
        } catch {
            queues.logger.debug("queue depths unavailable", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
