import AMQP
import Contract
import Foundation
import Logging
import Metrics
import Postgres
import Retry
import ServiceLifecycle
import Synchronization
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
/// - while the database cannot take events (it is down, it answers read-only, it refuses the
///   consumer's statements: a revoked grant, a missing table), the consumer stops consuming
///   (``ApplyFailure``): its connection closes, the events wait ready in the queue, and it
///   consumes again once the database took the events that failed; nothing is dead-lettered;
/// - contention (a deadlock, a lock timeout) is retried with capped backoff without limit,
///   never dead-lettered; a batch that stays contended goes on one event at a time, so that a
///   locked row holds back its own event only;
/// - any other failure of a batch is retried one event at a time, so that only the
///   event that fails is dead-lettered (after ``Configuration/maxAttempts``);
/// - at shutdown, unsettled deliveries go back to the queue with the closed connection
///   (never a requeue loop).
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
        /// The consumer's logger, without this delivery's metadata (see ``logger``).
        var consumerLogger: Logger
        /// The event's envelope, once its body was read (nil when it was not JSON or not an envelope).
        var envelope: EventEnvelope<IgnoredPayload>?
        /// The `traceparent` the event came with: the transaction span that appended it.
        var trace: TraceParent?

        /// The logger of this delivery: the consumer's, with the delivery tag, the event's id, type and
        /// request id, and the trace id. Made when something is logged, not for every event.
        var logger: Logger {
            var logger = consumerLogger
            logger[metadataKey: "amqp.delivery_tag"] = "\(delivery.deliveryTag)"
            if let envelope {
                logger[metadataKey: "event.id"] = "\(envelope.eventId.lowercased)"
                logger[metadataKey: "event.type"] = "\(envelope.type)"
                if let requestId = envelope.requestId { logger[metadataKey: "request.id"] = "\(requestId)" }
            }
            if let trace { logger[metadataKey: "trace.id"] = "\(trace.traceID)" }
            return logger
        }

        /// The delivery as ``BatchPlan`` sees it.
        var planned: BatchPlan.Delivery {
            switch content {
            case .success(let prepared):
                .event(id: prepared.event.envelope.eventId, record: prepared.change.id, version: prepared.change.version, epoch: prepared.event.epoch)
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

    /// Why consuming stopped: the failure, and the events to try again before it starts again.
    struct Pause: Sendable {
        var failure: ApplyFailure
        var error: String
        var items: [Item]
        var plan: BatchPlan
    }

    /// What the workers of one consuming round share with the shutdown handler.
    private struct State: Sendable {
        var queue: BatchQueue<AMQPDelivery>?
        var shuttingDown = false
        var pause: Pause?
    }

    private let state = Mutex(State())

    /// Consumes until graceful shutdown; batches in progress then finish (or go back to the queue).
    ///
    /// While the database cannot take events (``ApplyFailure/pausesConsumption``), the consumer
    /// stops consuming: it closes its connection, so that the broker holds every event ready in
    /// the queue (one return each, not one per retry, and nothing for `consumer_timeout` to
    /// close), and tries the failed events again until the database takes them; then it consumes again.
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
        metrics.paused(nil)
        await withGracefulShutdownHandler {
            while let pause = await consumeUntilPaused(logger: logger) {
                await waitForDatabase(pause, logger: logger)
            }
        } onGracefulShutdown: {
            let queue = self.state.withLock { state in
                state.shuttingDown = true
                return state.queue
            }
            queue?.finish()
        }
        logger.info("consumer stopped")
    }

    /// Consumes on one connection until graceful shutdown (then nil) or until a batch asks to
    /// pause (then the pause, once every worker has left its batch and the connection is closed).
    private func consumeUntilPaused(logger: Logger) async -> Pause? {
        let queue = BatchQueue<AMQPDelivery>()
        let stopped = state.withLock { state in
            state.queue = queue
            state.pause = nil
            return state.shuttingDown
        }
        if stopped { return nil }
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
        return state.withLock { state in
            state.queue = nil
            return state.shuttingDown ? nil : state.pause
        }
    }

    /// Whether a worker asked to stop consuming, or the service is shutting down: a batch then
    /// leaves its deliveries unsettled (closing the connection returns them to the queue).
    private var isStopping: Bool {
        state.withLock { $0.pause != nil || $0.shuttingDown } || Task.isShuttingDownGracefully || Task.isCancelled
    }

    /// Asks the round to stop consuming because `items` failed with `failure`; the first pause wins.
    private func pauseConsuming(_ pause: Pause, logger: Logger) {
        let queue = state.withLock { state in
            if state.pause == nil { state.pause = pause }
            return state.queue
        }
        queue?.finish()
    }

    /// Tries the events of `pause` again, with capped backoff, until the database takes them (or
    /// fails them in another way: the consumer's usual path deals with that); returns at shutdown too.
    ///
    /// Applying them commits them, exactly once through the inbox: their deliveries, back in the
    /// queue, are duplicates when they arrive again.
    private func waitForDatabase(_ pause: Pause, logger: Logger) async {
        let metadata: Logger.Metadata = ["consumer.pause": "\(pause.failure.label)", "error": "\(pause.error)"]
        if pause.failure == .configuration {
            // Nothing mends this but an operator: a grant, a table, a setting.
            logger.error("the database refuses the consumer's statements; consuming stopped until it takes them", metadata: metadata)
        } else {
            logger.warning("database unavailable; consuming stopped until it is back", metadata: metadata)
        }
        metrics.paused(pause.failure)
        defer { metrics.paused(nil) }
        var backoff = configuration.retry
        while !isShuttingDown {
            let delay = backoff.next()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            if isShuttingDown { return }
            do {
                _ = try await apply(pause.items, plan: pause.plan)
                logger.info("database takes events again; consuming", metadata: ["consumer.pause": "\(pause.failure.label)"])
                return
            } catch {
                let failure = ApplyFailure(error)
                guard failure.pausesConsumption else {
                    logger.info("database reachable again; consuming", metadata: ["error": "\(error)"])
                    return
                }
                logger.debug("database still not taking events", metadata: ["error": "\(error)", "consumer.pause": "\(failure.label)"])
            }
        }
    }

    private var isShuttingDown: Bool {
        state.withLock { $0.shuttingDown } || Task.isShuttingDownGracefully || Task.isCancelled
    }

    /// Handles a batch of deliveries to their end: each is acked after the commit that
    /// applied it, dead-lettered, or back in the queue (see ``BatchPlan`` for the order).
    ///
    /// The poison is dead-lettered beside the valid events' transaction, not before it: a
    /// dead-lettering that waits (for a dead-letter queue declared again, for the broker's
    /// confirm) does not hold back the events of its batch.
    func process(_ deliveries: [AMQPDelivery], logger: Logger) async {
        let items = deliveries.map { read($0, logger: logger) }
        let plan = BatchPlan(items.map(\.planned))
        await withDiscardingTaskGroup { group in
            if !plan.deadLetters.isEmpty {
                group.addTask {
                    for index in plan.deadLetters {
                        guard case .failure(let error) = items[index].content else { continue }
                        await self.deadLetter(items[index].delivery, because: error, logger: items[index].logger)
                    }
                }
            }
            if !plan.acks.isEmpty {
                await applyWithRetries(items, plan: plan, logger: logger)
            }
        }
    }

    /// Checks the publisher, decodes the event and prepares its change; a failure makes the delivery poison.
    private func read(_ delivery: AMQPDelivery, logger: Logger) -> Item {
        var trace: TraceParent?
        var envelope: EventEnvelope<IgnoredPayload>?
        do {
            if let accepted = configuration.acceptedPublisher, !Self.isPublished(delivery.properties, by: accepted, ownUser: amqp.user) {
                throw PoisonMessage(
                    .unauthenticatedPublisher, "published by user \(delivery.properties.userID ?? "(none)"), not by \(accepted)")
            }
            var event = try IncomingEvent(body: delivery.body)
            event.overwrites = Self.isRepair(delivery.properties, by: configuration.acceptedPublisher)
            event.epoch = try Self.epoch(of: delivery.properties)
            envelope = event.envelope
            // The trace of the request that caused the event continues here (W3C trace context).
            trace = delivery.properties.headers["traceparent"]?.stringValue.flatMap(TraceParent.init)
            let change = try handler.prepare(event)
            return Item(
                delivery: delivery, content: .success(PreparedEvent(event: event, change: change)), consumerLogger: logger, envelope: envelope,
                trace: trace)
        } catch {
            return Item(delivery: delivery, content: .failure(error), consumerLogger: logger, envelope: envelope, trace: trace)
        }
    }

    /// How often a batch of several events is retried whole on contention before it is split.
    static var contendedAttemptsBeforeSplit: Int { 2 }

    /// What one attempt at a batch did.
    private enum Attempt {
        /// Committed and acked (or left for the broker to redeliver when the ack failed).
        case applied
        /// Not committed: why.
        case failed(ApplyFailure, any Error)
    }

    /// Applies the events `plan` acks in one transaction and acks them.
    ///
    /// A failure that means the database cannot take events (``ApplyFailure/pausesConsumption``)
    /// stops consuming (see ``run()``); contention (a lock, a deadlock) is retried in place, a
    /// batch of several events whole at most ``contendedAttemptsBeforeSplit`` times; then, and
    /// after any other failure, the batch goes on one event at a time (``applyOneByOne(_:_:logger:)``).
    ///
    /// Nothing is ever requeued: while it retries, the worker holds its deliveries unacked; when
    /// consuming stops or at shutdown it leaves them unsettled, and closing the connection returns
    /// them to the queue.
    private func applyWithRetries(_ items: [Item], plan: BatchPlan, logger: Logger) async {
        if plan.acks.count == 1 {
            await applyOneByOne(items, plan.acks, logger: items[plan.acks[0]].logger)
            return
        }
        var backoff = configuration.retry
        for attempt in 1...Self.contendedAttemptsBeforeSplit {
            guard case .failed(let failure, let error) = await self.attempt(items, plan: plan, logger: logger) else { return }
            if error is CancellationError { return }  // shutting down: the deliveries return to the queue
            if failure.pausesConsumption {
                pauseConsuming(Pause(failure: failure, error: Self.summary(of: error), items: items, plan: plan), logger: logger)
                return
            }
            guard failure == .contention else {
                // One bad event must not hold back the others, nor be dead-lettered with them.
                logger.warning(
                    "batch failed, applying its events one at a time", metadata: ["error": "\(error)", "consumer.batch": "\(plan.acks.count)"])
                break
            }
            metrics.transientFailure()
            logger.warning("database busy, retrying", metadata: ["error": "\(error)", "consumer.batch": "\(plan.acks.count)"])
            if isStopping {
                logger.info("consuming stops; unsettled deliveries return to the queue", metadata: ["consumer.batch": "\(plan.acks.count)"])
                return
            }
            if attempt < Self.contendedAttemptsBeforeSplit {
                try? await backoff.sleep()
            } else {
                // One locked row must hold back its own event only, not the rest of the batch.
                logger.warning("batch still contended, applying its events one at a time", metadata: ["consumer.batch": "\(plan.acks.count)"])
            }
        }
        await applyOneByOne(items, plan.acks, logger: logger)
    }

    /// Applies the deliveries at `indices` one event per transaction, in rounds: each round tries
    /// every event still pending once, then waits a backoff step. An event that fails on
    /// contention stays pending without limit; one that fails otherwise is dead-lettered after
    /// ``Configuration/maxAttempts``; a failure that pauses consumption ends the rounds.
    private func applyOneByOne(_ items: [Item], _ indices: [Int], logger: Logger) async {
        var pending = indices
        var failures: [Int: Int] = [:]
        var backoff = configuration.retry
        while !pending.isEmpty {
            var next: [Int] = []
            for index in pending {
                let item = items[index]
                let single = BatchPlan([item.planned])
                guard case .failed(let failure, let error) = await attempt([item], plan: single, logger: item.logger) else { continue }
                if error is CancellationError { return }  // shutting down: the deliveries return to the queue
                switch failure {
                case _ where failure.pausesConsumption:
                    pauseConsuming(Pause(failure: failure, error: Self.summary(of: error), items: [item], plan: single), logger: item.logger)
                    return
                case .contention:
                    metrics.transientFailure()
                    item.logger.warning("database busy, retrying", metadata: ["error": "\(error)"])
                    next.append(index)
                default:
                    let attempts = failures[index, default: 0] + 1
                    failures[index] = attempts
                    item.logger.error("event failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
                    if attempts >= configuration.maxAttempts {
                        await deadLetter(item.delivery, because: PoisonMessage(.processingFailed, Self.summary(of: error)), logger: item.logger)
                    } else {
                        next.append(index)
                    }
                }
            }
            pending = next
            if pending.isEmpty { return }
            if isStopping {
                logger.info("consuming stops; unsettled deliveries return to the queue", metadata: ["consumer.batch": "\(pending.count)"])
                return
            }
            try? await backoff.sleep()
        }
    }

    /// One transaction for the events `plan` acks; on commit, their metrics, ack and spans.
    private func attempt(_ items: [Item], plan: BatchPlan, logger: Logger) async -> Attempt {
        let started = DefaultTracerClock.now
        do {
            let decided = try await apply(items, plan: plan)
            let outcomes = decided.ackedOutcomes
            for (index, outcome) in zip(decided.acks, outcomes) {
                let envelope = items[index].prepared.event.envelope
                metrics.record(outcome, eventType: envelope.type, occurredAt: envelope.occurredAt)
                if logger.logLevel <= .debug { items[index].logger.debug("event consumed", metadata: ["event.outcome": "\(outcome.rawValue)"]) }
            }
            await settle(decided.acks.map { items[$0].delivery }, logger: logger) { try await AMQPDelivery.ack($0) }
            if spansRecorded { recordApplySpans(decided.acks.map { items[$0] }, outcomes: outcomes, startedAt: started) }
            return .applied
        } catch {
            return .failed(ApplyFailure(error), error)
        }
    }

    /// Runs the steps of `plan` in one transaction: inbox rows, then replica rows, then the replays'
    /// outcome and the duplicates' count; returns the plan decided.
    private func apply(_ items: [Item], plan: BatchPlan) async throws -> BatchPlan {
        try await database.withConnection { connection in
            do {
                return try await connection.withTransaction { connection in try await apply(items, plan: plan, on: connection) }
            } catch let error as PostgresError where ApplyFailure(error) == .readOnly {
                // A standby: the next connection runs libpq's host selection again.
                connection.discardAfterUse()
                throw error
            }
        }
    }

    /// The statements of ``apply(_:plan:)``, in its transaction.
    private func apply(_ items: [Item], plan: BatchPlan, on connection: PostgresConnection) async throws -> BatchPlan {
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

    /// What a dead letter records of a failure: a database error by its code and SQLSTATE only (its
    /// message can quote the row, personal data included: "Failing row contains (…)"), anything
    /// else by its description.
    static func summary(of error: any Error) -> String {
        guard let error = error as? PostgresError else { return "\(error)" }
        return "database error \(error.code)" + (error.sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// The epoch a delivery's ``ReplicationSchema/epochHeader`` names (text or a number); 1 when
    /// it has none, and an invalid one makes the event poison.
    static func epoch(of properties: AMQPProperties) throws(PoisonMessage) -> Int64 {
        guard let value = properties.headers[ReplicationSchema.epochHeader] else { return 1 }
        let epoch: Int64? =
            switch value {
            case .string(let text): Int64(text)
            case .int(let number): number
            default: nil
            }
        guard let epoch, epoch >= 1 else {
            throw PoisonMessage(.invalidEnvelope, "the \(ReplicationSchema.epochHeader) header is not an epoch (1 or more)")
        }
        return epoch
    }

    /// Whether the delivery is a repair's snapshot to write over the replica's row: marked
    /// `x-repair: overwrite` and published by `accepted` itself (its `user_id`, validated by
    /// RabbitMQ; a replay, published by this service, never is). Without an accepted publisher, none is.
    static func isRepair(_ properties: AMQPProperties, by accepted: String?) -> Bool {
        guard let accepted else { return false }
        return properties.userID == accepted && properties.headers[IncomingEvent.repairHeader]?.stringValue == IncomingEvent.overwrite
    }

    /// Whether `accepted` published the event: its `user_id` (RabbitMQ validated it), or a replay
    /// from this service's dead letters, which only this service's own user can publish (docs/design.md#dead-letters):
    /// `user_id` is `ownUser`, the original publisher in `x-original-user-id`.
    static func isPublished(_ properties: AMQPProperties, by accepted: String, ownUser: String) -> Bool {
        if properties.userID == accepted { return true }
        return properties.userID == ownUser && properties.headers["x-original-user-id"]?.stringValue == accepted
            && properties.headers["x-replayed-from"] != nil
    }

    /// The properties of a dead letter of a delivery with `properties`.
    ///
    /// RabbitMQ accepts a user_id only from that user's connection: the dead letter goes out
    /// under this consumer's own user (`ownUser`, which marks it as written here), and the
    /// original publisher goes into `x-original-user-id`, always written from what the broker
    /// validated: the delivery's `user_id`, or for a replay by this service (its own `user_id`
    /// and `x-replayed-from`) the original publisher that replay carried, so that a replay that
    /// fails again keeps it through any number of round trips. A header that arrived from anyone
    /// else is replaced, or removed when the delivery has no `user_id`, and `x-replayed-from` never
    /// stays: a dead letter cannot be forged into a trusted replay.
    static func deadLetterProperties(
        _ properties: AMQPProperties, ownUser: String, reason: PoisonMessage, at date: Date, queue: String
    ) -> AMQPProperties {
        var properties = properties
        let replayedByUs = properties.userID == ownUser && properties.headers["x-replayed-from"] != nil
        let original = replayedByUs ? properties.headers["x-original-user-id"]?.stringValue : properties.userID
        properties.headers["x-original-user-id"] = original.map { .string($0) }
        properties.headers["x-replayed-from"] = nil
        properties.userID = ownUser
        properties.headers["x-dead-letter-reason"] = .string(reason.description)
        properties.headers["x-dead-lettered-at"] = .string(Timestamp.format(date))
        properties.headers["x-original-queue"] = .string(queue)
        return properties
    }

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

    /// Publishes the delivery, with the reason, to the dead-letter exchange; after the
    /// broker confirmed it, counts it and acks the original. An unroutable dead letter (the
    /// dead-letter queue or its binding is gone) declares the subscriber topology again.
    private func deadLetter(_ delivery: AMQPDelivery, because error: any Error, logger: Logger) async {
        let poison = error as? PoisonMessage ?? PoisonMessage(.processingFailed, Self.summary(of: error))
        let properties = Self.deadLetterProperties(
            delivery.properties, ownUser: amqp.user, reason: poison, at: Date(), queue: configuration.queue)
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
                if isStopping {
                    logger.info("dead-lettering not confirmed as consuming stops; the message returns to the queue", metadata: ["error": "\(error)"])
                    return
                }
                if let error = error as? AMQPError, error.code == .unroutable {
                    // The dead-letter queue or its binding is gone: declare the subscriber's topology again.
                    await redeclareTopology(logger: logger)
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

    /// Declares the subscriber topology (the dead-letter queue and its binding among it) on a
    /// connection of its own; a failure is logged, and the next unroutable dead letter tries again.
    private func redeclareTopology(logger: Logger) async {
        do {
            let connection = try await AMQPConnection.connect(amqp, logger: logger)
            do {
                try await connection.declare(configuration.topology)
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
            logger.warning(
                "a dead letter was unroutable; the subscriber topology is declared again",
                metadata: ["amqp.queue": "\(configuration.deadLetterRoutingKey)"])
        } catch {
            logger.error("the subscriber topology cannot be declared again", metadata: ["error": "\(error)"])
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
