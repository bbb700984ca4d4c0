import AMQP
import Contract
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// The idempotent consumer: applies each event of a subscriber queue to the
/// local replica exactly once in effect.
///
/// For every delivery, in one database transaction, it records the event id in
/// the inbox (`ON CONFLICT DO NOTHING`) and lets the handler write the replica
/// row; it acks only after that transaction committed. So:
/// - a duplicate delivery (same event id) or a replay (new event id, record
///   already present) changes nothing and is acked;
/// - a poison message (not JSON, unknown type, invalid data) is published to the
///   dead-letter exchange with an `x-dead-letter-reason` header, confirmed, counted
///   and then acked: the consumer goes on;
/// - a transient failure (the database is down) is retried with capped backoff,
///   never acked and never dead-lettered; on shutdown it is nacked back to the queue.
///
/// Deliveries are processed up to ``Configuration/concurrency`` at a time (the
/// inserts are independent), each on its own pooled connection.
public final class ReplicaConsumer<Handler: ReplicaEventHandler>: Service, Sendable {
    /// What to consume and how.
    public struct Configuration: Sendable {
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
        /// Deliveries processed at once.
        public var concurrency: Int = 8
        /// Attempts at a delivery that fails with a non-transient error before it is dead-lettered.
        public var maxAttempts: Int = 5

        /// Creates a configuration for `queue` from the contract's names.
        public init(exchange: String, queue: String, names: ReplicationNames, prefetch: Int = 100, concurrency: Int = 8) {
            self.queue = queue
            self.topology = ReplicationTopology.subscriber(exchange: exchange, queue: queue, names: names)
            self.deadLetterExchange = names.deadLetterExchange
            self.deadLetterRoutingKey = names.deadLetterQueue(of: queue)
            self.prefetch = prefetch
            self.concurrency = concurrency
        }
    }

    private let configuration: Configuration
    private let amqp: AMQPConfiguration
    private let database: PostgresClient
    private let publisher: AMQPPublisher
    private let handler: Handler
    private let logger: Logger
    private let metrics: ConsumerMetrics

    /// Creates a consumer of `configuration.queue` that writes through `handler`
    /// into `database`, and dead-letters through `publisher`.
    public init(
        configuration: Configuration,
        amqp: AMQPConfiguration,
        database: PostgresClient,
        publisher: AMQPPublisher,
        handler: Handler,
        logger: Logger
    ) {
        self.configuration = configuration
        self.amqp = amqp
        self.database = database
        self.publisher = publisher
        self.handler = handler
        self.logger = logger
        self.metrics = ConsumerMetrics(queue: configuration.queue)
    }

    /// Consumes until graceful shutdown; deliveries in progress then finish (or go back to the queue).
    public func run() async throws {
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(configuration.queue)"
        logger.info("consumer started", metadata: ["amqp.prefetch": "\(configuration.prefetch)"])
        let deliveries = AMQPConsumer(
            configuration: amqp,
            topology: configuration.topology,
            queue: configuration.queue,
            prefetch: configuration.prefetch,
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for try await delivery in deliveries.cancelOnGracefulShutdown() {
                if running == configuration.concurrency {
                    try await group.next()
                    running -= 1
                }
                group.addTask { [logger] in await self.process(delivery, logger: logger) }
                running += 1
            }
            try await group.waitForAll()
        }
        logger.info("consumer stopped")
    }

    /// Handles one delivery to its end: acked after commit, dead-lettered, or back in the queue.
    func process(_ delivery: AMQPDelivery, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "amqp.delivery_tag"] = "\(delivery.deliveryTag)"
        let event: IncomingEvent
        let change: Handler.Change
        do {
            event = try IncomingEvent(body: delivery.body)
            logger[metadataKey: "event.id"] = "\(event.envelope.eventId.lowercased)"
            logger[metadataKey: "event.type"] = "\(event.envelope.type)"
            if let requestId = event.envelope.requestId { logger[metadataKey: "request.id"] = "\(requestId)" }
            change = try handler.prepare(event)
        } catch {
            await deadLetter(delivery, because: error, logger: logger)
            return
        }

        var backoff = Backoff()
        var attempts = 0
        while true {
            attempts += 1
            do {
                let outcome = try await apply(change, of: event)
                metrics.record(outcome, occurredAt: event.envelope.occurredAt)
                logger.debug("event consumed", metadata: ["event.outcome": "\(outcome.rawValue)"])
                await settle(delivery, logger: logger) { try await $0.ack() }
                return
            } catch let error as PostgresError where error.isConnectionFailure {
                // The own database is down: transient. Retry until it is back, never drop.
                logger.warning("database unavailable, retrying event", metadata: ["error": "\(error)"])
            } catch {
                logger.error("event failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
                if attempts >= configuration.maxAttempts {
                    await deadLetter(delivery, because: PoisonMessage(.processingFailed, "\(error)"), logger: logger)
                    return
                }
            }
            if Task.isShuttingDownGracefully || Task.isCancelled {
                await settle(delivery, logger: logger) { try await $0.nack(requeue: true) }
                return
            }
            try? await backoff.sleep()
        }
    }

    /// Inbox row and replica row in one transaction.
    private func apply(_ change: Handler.Change, of event: IncomingEvent) async throws -> ConsumeOutcome {
        try await database.withTransaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO inbox (event_id, event_type, source_sequence, outcome) VALUES ($1, $2, $3, 'applied')
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id
                """,
                [event.envelope.eventId, event.envelope.type, event.envelope.sequence]
            )
            guard !inserted.isEmpty else {
                try await ConsumerCounter.duplicateEvents.increment(on: connection)
                return .duplicate
            }
            if try await handler.apply(change, of: event, on: connection) {
                return .applied
            }
            try await connection.query("UPDATE inbox SET outcome = 'replay' WHERE event_id = $1", [event.envelope.eventId])
            return .replay
        }
    }

    /// Publishes the delivery, with the reason, to the dead-letter exchange; after the
    /// broker confirmed it, counts it and acks the original.
    private func deadLetter(_ delivery: AMQPDelivery, because error: any Error, logger: Logger) async {
        let poison = error as? PoisonMessage ?? PoisonMessage(.processingFailed, "\(error)")
        var properties = delivery.properties
        properties.headers["x-dead-letter-reason"] = .string(poison.description)
        properties.headers["x-original-queue"] = .string(configuration.queue)
        let message = AMQPMessage(
            exchange: configuration.deadLetterExchange,
            routingKey: configuration.deadLetterRoutingKey,
            body: delivery.body,
            properties: properties
        )
        do {
            try await publisher.publish([message])
        } catch {
            // Not confirmed: leave the original in the queue, to be dead-lettered when it comes back.
            logger.warning("dead-lettering failed, message requeued", metadata: ["error": "\(error)"])
            await settle(delivery, logger: logger) { try await $0.nack(requeue: true) }
            return
        }
        logger.warning("message dead-lettered", metadata: ["dead_letter.reason": "\(poison)"])
        metrics.deadLettered(poison.reason)
        do {
            try await database.withConnection { try await ConsumerCounter.deadLettered.increment(on: $0) }
        } catch {
            logger.error("dead-letter count not saved", metadata: ["error": "\(error)"])
        }
        await settle(delivery, logger: logger) { try await $0.ack() }
    }

    /// Acks or nacks; a failure means the connection is gone and the broker will redeliver.
    private func settle(_ delivery: AMQPDelivery, logger: Logger, _ action: (AMQPDelivery) async throws -> Void) async {
        do {
            try await action(delivery)
        } catch {
            logger.info("delivery not settled, the broker will redeliver it", metadata: ["error": "\(error)"])
        }
    }
}

/// The consumer's metrics.
struct ConsumerMetrics: Sendable {
    let queue: String
    let applied: Counter
    let duplicate: Counter
    let replay: Counter
    let lag: Metrics.Timer

    init(queue: String) {
        self.queue = queue
        let dimensions = [("queue", queue)]
        applied = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "applied")])
        duplicate = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "duplicate")])
        replay = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "replay")])
        lag = Metrics.Timer(label: "replication_lag_seconds", dimensions: dimensions)
        // Registered at zero, so the series exist (and rate() works) before the first poison message.
        for reason in [PoisonMessage.Reason.invalidJSON, .invalidEnvelope, .unknownType, .invalidData, .processingFailed] {
            _ = Counter(label: "replication_events_dead_lettered_total", dimensions: dimensions + [("reason", reason.rawValue)])
        }
    }

    func record(_ outcome: ConsumeOutcome, occurredAt: Date) {
        switch outcome {
        case .applied:
            applied.increment()
            lag.recordNanoseconds(Int64(max(0, Date().timeIntervalSince(occurredAt)) * 1e9))
        case .duplicate: duplicate.increment()
        case .replay: replay.increment()
        }
    }

    func deadLettered(_ reason: PoisonMessage.Reason) {
        Counter(label: "replication_events_dead_lettered_total", dimensions: [("queue", queue), ("reason", reason.rawValue)]).increment()
    }
}
