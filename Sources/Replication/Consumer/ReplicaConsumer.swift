import AMQP
import Contract
import Foundation
import Logging
import Metrics
import Postgres
import Retry
import ServiceLifecycle
import Tracing

/// The idempotent consumer: applies each event of a subscriber queue to the
/// local replica exactly once in effect.
///
/// Deliveries are applied in batches: in one database transaction, the batch's event
/// ids go into the inbox (`ON CONFLICT DO NOTHING`) and the handler writes the replica
/// rows of the events that were new; the deliveries are acked only after that
/// transaction committed. So:
/// - a duplicate delivery (same event id) or a replay (new event id, record
///   already present) changes nothing and is acked;
/// - a poison message (not JSON, unknown type, invalid data) is published to the
///   dead-letter exchange with an `x-dead-letter-reason` header, confirmed, counted
///   and then acked: the consumer goes on;
/// - a transient failure (the database is down, a deadlock, a lock timeout) is retried
///   with capped backoff without limit, never acked and never dead-lettered; at shutdown
///   its deliveries go back to the queue with the closed connection (never a requeue loop);
/// - any other failure of a batch is retried one event at a time, so that only the
///   event that fails is dead-lettered (after ``Configuration/maxAttempts``).
///
/// Batches form by themselves: ``Configuration/concurrency`` workers each take
/// everything that has arrived (up to ``Configuration/batchSize``). While they keep
/// up, every event is applied alone as soon as it arrives; under load, one commit
/// covers many events, which is what lets the consumer keep up with its source.
public final class ReplicaConsumer<Handler: ReplicaEventHandler>: Service, Sendable {
    /// What to consume and how.
    public typealias Configuration = ReplicaConsumerConfiguration

    /// A delivery of a batch, read: its event ready to apply, or why it is poison.
    struct Item: Sendable {
        var delivery: AMQPDelivery
        var content: Result<PreparedEvent<Handler.Change>, any Error>
        var logger: Logger
        /// The `traceparent` the event came with: the transaction span that appended it.
        var trace: TraceParent?

        /// The delivery as ``BatchPlan`` sees it.
        var planned: BatchPlan.Delivery {
            switch content {
            case .success(let prepared): .event(id: prepared.event.envelope.eventId, record: prepared.change.id, version: prepared.change.version)
            case .failure: .poison
            }
        }

        /// The event and its change; only for the deliveries a plan applies (never poison).
        var prepared: PreparedEvent<Handler.Change> {
            guard case .success(let prepared) = content else { preconditionFailure("a poison delivery is never applied") }
            return prepared
        }
    }

    private let configuration: Configuration
    private let amqp: AMQPConfiguration
    private let database: PostgresClient
    private let publisher: AMQPPublisher
    private let handler: Handler
    private let logger: Logger
    private let metrics: ConsumerMetrics
    private let spansRecorded = Spans.areRecorded

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

    /// Consumes until graceful shutdown; batches in progress then finish (or go back to the queue).
    public func run() async throws {
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(configuration.queue)"
        logger.info(
            "consumer started",
            metadata: [
                "amqp.prefetch": "\(configuration.prefetch)",
                "consumer.concurrency": "\(configuration.concurrency)",
                "consumer.batch_size": "\(configuration.batchSize)",
            ]
        )
        let queue = BatchQueue<AMQPDelivery>()
        let deliveries = AMQPConsumer(
            configuration: amqp,
            topology: configuration.topology,
            queue: configuration.queue,
            prefetch: configuration.prefetch,
            logger: logger,
            onConnectionChange: { connected in
                // Deliveries of a lost connection can no longer be acked, and the broker sends them
                // again on the next: drop those not taken yet, so the queue holds at most one prefetch.
                if !connected { queue.removeAll() }
            }
        )
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await delivery in deliveries {
                        queue.push(delivery)
                    }
                }
                await withDiscardingTaskGroup { workers in
                    for _ in 0..<configuration.concurrency {
                        workers.addTask { [logger] in
                            while let batch = await queue.take(max: self.configuration.batchSize) {
                                await self.process(batch, logger: logger)
                            }
                        }
                    }
                }
                // The workers finished their batches; closing the connection returns the
                // deliveries nobody took (and those left unsettled) to the queue.
                group.cancelAll()
            }
        } onGracefulShutdown: {
            queue.finish()
        }
        logger.info("consumer stopped")
    }

    /// Handles a batch of deliveries to their end: each is acked after the commit that
    /// applied it, dead-lettered, or back in the queue (see ``BatchPlan`` for the order).
    func process(_ deliveries: [AMQPDelivery], logger: Logger) async {
        let items = deliveries.map { read($0, logger: logger) }
        let plan = BatchPlan(items.map(\.planned))
        for index in plan.deadLetters {
            guard case .failure(let error) = items[index].content else { continue }
            await deadLetter(items[index].delivery, because: error, logger: items[index].logger)
        }
        if !plan.acks.isEmpty {
            await applyWithRetries(items, plan: plan, logger: logger)
        }
    }

    /// Checks the publisher, decodes the event and prepares its change; a failure makes the delivery poison.
    private func read(_ delivery: AMQPDelivery, logger: Logger) -> Item {
        var logger = logger
        logger[metadataKey: "amqp.delivery_tag"] = "\(delivery.deliveryTag)"
        var trace: TraceParent?
        do {
            if let accepted = configuration.acceptedPublisher, !Self.isPublished(delivery.properties, by: accepted, ownUser: amqp.user) {
                throw PoisonMessage(
                    .unauthenticatedPublisher, "published by user \(delivery.properties.userID ?? "(none)"), not by \(accepted)")
            }
            let event = try IncomingEvent(body: delivery.body)
            logger[metadataKey: "event.id"] = "\(event.envelope.eventId.lowercased)"
            logger[metadataKey: "event.type"] = "\(event.envelope.type)"
            if let requestId = event.envelope.requestId { logger[metadataKey: "request.id"] = "\(requestId)" }
            // The trace of the request that caused the event continues here (W3C trace context).
            trace = delivery.properties.headers["traceparent"]?.stringValue.flatMap(TraceParent.init)
            if let trace { logger[metadataKey: "trace.id"] = "\(trace.traceID)" }
            let change = try handler.prepare(event)
            return Item(delivery: delivery, content: .success(PreparedEvent(event: event, change: change)), logger: logger, trace: trace)
        } catch {
            return Item(delivery: delivery, content: .failure(error), logger: logger, trace: trace)
        }
    }

    /// Applies the events `plan` acks in one transaction and acks them, retrying without limit
    /// while the failure is transient (``PostgresError/isTransient``: the database is down, a
    /// deadlock, a lock or statement timeout); a batch that fails otherwise is split into single
    /// events, and a single event that keeps failing is dead-lettered after ``Configuration/maxAttempts``.
    ///
    /// Nothing is ever requeued: while it retries, the worker holds its deliveries unacked; at
    /// shutdown it leaves them unsettled, and closing the connection returns them to the queue.
    private func applyWithRetries(_ items: [Item], plan: BatchPlan, logger: Logger) async {
        let logger = plan.acks.count == 1 ? items[plan.acks[0]].logger : logger
        var backoff = configuration.retry
        var attempts = 0
        let started = DefaultTracerClock.now
        while true {
            do {
                let decided = try await apply(items, plan: plan)
                let outcomes = decided.ackedOutcomes
                for (index, outcome) in zip(decided.acks, outcomes) {
                    metrics.record(outcome, occurredAt: items[index].prepared.event.envelope.occurredAt)
                    items[index].logger.debug("event consumed", metadata: ["event.outcome": "\(outcome.rawValue)"])
                }
                await settle(decided.acks.map { items[$0].delivery }, logger: logger) { try await AMQPDelivery.ack($0) }
                if spansRecorded { recordApplySpans(decided.acks.map { items[$0] }, outcomes: outcomes, startedAt: started) }
                return
            } catch let error as PostgresError where error.isTransient {
                // Transient: the same batch will succeed later. Retry until it does; never drop it.
                metrics.transientFailure()
                logger.warning("database unavailable or busy, retrying", metadata: ["error": "\(error)", "consumer.batch": "\(plan.acks.count)"])
            } catch {
                if plan.acks.count > 1 {
                    // One bad event must not hold back the others, nor be dead-lettered with them.
                    logger.warning(
                        "batch failed, applying its events one at a time", metadata: ["error": "\(error)", "consumer.batch": "\(plan.acks.count)"])
                    for index in plan.acks {
                        await applyWithRetries([items[index]], plan: BatchPlan([items[index].planned]), logger: logger)
                    }
                    return
                }
                attempts += 1
                logger.error("event failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
                if attempts >= configuration.maxAttempts {
                    await deadLetter(items[plan.acks[0]].delivery, because: PoisonMessage(.processingFailed, Self.summary(of: error)), logger: logger)
                    return
                }
            }
            if Task.isShuttingDownGracefully || Task.isCancelled {
                logger.info("shutting down; unsettled deliveries return to the queue", metadata: ["consumer.batch": "\(plan.acks.count)"])
                return
            }
            try? await backoff.sleep()
        }
    }

    /// Runs the steps of `plan` in one transaction: inbox rows, then replica rows, then the replays'
    /// outcome and the duplicates' count; returns the plan decided.
    private func apply(_ items: [Item], plan: BatchPlan) async throws -> BatchPlan {
        try await database.withTransaction { connection in
            var plan = plan
            let envelopes = plan.inboxInserts.map { items[$0].prepared.event.envelope }
            let changes = plan.inboxInserts.map { items[$0].prepared.change }
            // With the request id, the record and its version, so that a request can be traced (docs/design.md#trace).
            let newEvents = Set(
                try await connection.query(
                    """
                    INSERT INTO inbox (event_id, event_type, source_sequence, outcome, request_id, record_id, version)
                    SELECT event_id, event_type, source_sequence, 'applied', request_id, record_id, version
                    FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::uuid[], $6::bigint[])
                        AS event(event_id, event_type, source_sequence, request_id, record_id, version)
                    ON CONFLICT (event_id) DO NOTHING
                    RETURNING event_id
                    """,
                    [
                        envelopes.map(\.eventId), envelopes.map(\.type), envelopes.map(\.sequence), envelopes.map(\.requestId),
                        changes.map(\.id), changes.map(\.version),
                    ]
                ).map { try $0.decode(0, as: UUID.self) }
            )
            let writes = plan.inboxInserted(newEvents)
            if !writes.isEmpty {
                plan.recordsWritten(try await handler.apply(writes.map { items[$0].prepared }, on: connection))
            }
            let replays = plan.replays
            if !replays.isEmpty {
                try await connection.query("UPDATE inbox SET outcome = 'replay' WHERE event_id = ANY($1::uuid[])", [replays])
            }
            let duplicates = plan.duplicateCount
            if duplicates > 0 {
                try await ConsumerCounter.duplicateEvents.increment(by: duplicates, on: connection)
            }
            return plan
        }
    }

    /// What a dead letter records of a failure: a database error by its code and SQLSTATE only (its
    /// message can quote the row, personal data included: "Failing row contains (…)"), anything
    /// else by its description.
    static func summary(of error: any Error) -> String {
        guard let error = error as? PostgresError else { return "\(error)" }
        return "database error \(error.code)" + (error.sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// Whether `accepted` published the event: its `user_id` (RabbitMQ validated it), or a replay
    /// from this service's dead letters, which only this service's own user can publish (docs/design.md#dead-letters):
    /// `user_id` is `ownUser`, the original publisher in `x-original-user-id`.
    static func isPublished(_ properties: AMQPProperties, by accepted: String, ownUser: String) -> Bool {
        if properties.userID == accepted { return true }
        return properties.userID == ownUser && properties.headers["x-original-user-id"]?.stringValue == accepted
            && properties.headers["x-replayed-from"] != nil
    }

    /// Publishes the delivery, with the reason, to the dead-letter exchange; after the
    /// broker confirmed it, counts it and acks the original.
    /// One span per event, a child of the transaction that appended it, from the batch's first
    /// attempt to its ack: the events of a batch share their transaction, so their spans do too.
    private func recordApplySpans(_ items: [Item], outcomes: [ConsumeOutcome], startedAt started: DefaultTracerClock.Instant) {
        for (item, outcome) in zip(items, outcomes) {
            let envelope = item.prepared.event.envelope
            let context = item.trace.map(Spans.context(continuing:)) ?? .topLevel
            let span = startSpan("\(envelope.type) apply", context: context, ofKind: .consumer, at: started)
            span.updateAttributes { attributes in
                attributes["messaging.system"] = "rabbitmq"
                attributes["messaging.operation.type"] = "process"
                attributes["messaging.destination.name"] = configuration.queue
                attributes["messaging.message.id"] = "\(envelope.eventId.lowercased)"
                attributes["replication.outcome"] = outcome.rawValue
                if let requestId = envelope.requestId { attributes["request.id"] = requestId }
            }
            span.end()
        }
    }

    private func deadLetter(_ delivery: AMQPDelivery, because error: any Error, logger: Logger) async {
        let poison = error as? PoisonMessage ?? PoisonMessage(.processingFailed, Self.summary(of: error))
        var properties = delivery.properties
        // RabbitMQ accepts a user_id only from that user's connection: the original publisher's
        // goes into a header, and the dead letter is published under this consumer's own user.
        // The header says only what the broker validated: the delivery's user_id, or for a replay
        // by this service (its own user_id) the original publisher it carried. A header that
        // arrived from anyone else is dropped, so a dead letter cannot be forged into a replay.
        let replayedByUs = properties.userID == amqp.user && properties.headers["x-replayed-from"] != nil
        let original = replayedByUs ? properties.headers["x-original-user-id"]?.stringValue : properties.userID
        properties.headers["x-original-user-id"] = original.map { .string($0) }
        properties.headers["x-replayed-from"] = nil
        properties.userID = nil
        properties.headers["x-dead-letter-reason"] = .string(poison.description)
        properties.headers["x-dead-lettered-at"] = .string(Timestamp.format(Date()))
        properties.headers["x-original-queue"] = .string(configuration.queue)
        let message = AMQPMessage(
            exchange: configuration.deadLetterExchange,
            routingKey: configuration.deadLetterRoutingKey,
            body: delivery.body,
            properties: properties,
            mandatory: true
        )
        // Retried in place until the broker confirms: the original stays unacked meanwhile, so it is
        // neither lost nor redelivered in a hot loop (and its delivery count does not grow).
        var backoff = configuration.retry
        while true {
            do {
                try await publisher.publish([message])
                break
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled {
                    logger.info("dead-lettering not confirmed at shutdown; the message returns to the queue", metadata: ["error": "\(error)"])
                    return
                }
                let delay = backoff.next()
                logger.warning("dead-lettering failed, retrying", metadata: ["error": "\(error)", "retry.in_ms": "\(delay.milliseconds)"])
                try? await Task.sleep(for: delay)
            }
        }
        logger.warning("message dead-lettered", metadata: ["dead_letter.reason": "\(poison)"])
        await settle(delivery, logger: logger) { try await $0.ack() }
        // Counted after the ack: a count is a statistic, and a database outage must not hold the delivery.
        metrics.deadLettered(poison.reason)
        do {
            try await database.withConnection { try await ConsumerCounter.deadLettered.increment(on: $0) }
        } catch {
            logger.error("dead-letter count not saved", metadata: ["error": "\(error)"])
        }
    }

    /// Acks or nacks; a failure means the connection is gone and the broker will redeliver.
    private func settle(_ delivery: AMQPDelivery, logger: Logger, _ action: (AMQPDelivery) async throws -> Void) async {
        do {
            try await action(delivery)
        } catch {
            logger.info("delivery not settled, the broker will redeliver it", metadata: ["error": "\(error)"])
        }
    }

    /// Settles `deliveries` together; a failure means the connection is gone and the broker will redeliver.
    private func settle(_ deliveries: [AMQPDelivery], logger: Logger, _ action: ([AMQPDelivery]) async throws -> Void) async {
        do {
            try await action(deliveries)
        } catch {
            logger.info(
                "deliveries not settled, the broker will redeliver them", metadata: ["error": "\(error)", "consumer.batch": "\(deliveries.count)"])
        }
    }
}
