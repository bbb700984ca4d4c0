import AMQP
import Contract
import Foundation
import Logging
import Metrics
import Postgres
import Retry
import ServiceLifecycle
import Tracing

/// Publishes the outbox: reads unpublished rows in sequence order, publishes
/// them with publisher confirms, and marks them published only after the broker
/// confirmed them, in the transaction that locked them.
///
/// - A service calls ``wake()`` right after committing a change, so an event is
///   published without waiting for a poll; a slow poll (``Configuration/pollInterval``)
///   catches rows committed by instances that died before publishing.
/// - Rows are locked with `FOR UPDATE SKIP LOCKED`, so several instances of a
///   service can run relays at once without publishing one row concurrently, and
///   one relay can have several batches in flight (``Configuration/concurrency``):
///   while one waits for the broker's confirms, another publishes what was committed since.
/// - While the broker is down, publishing fails, the transaction rolls back, and
///   the relay retries with capped backoff: writes go on, the backlog drains later.
/// - Events are published `mandatory`: an event that no queue takes comes back, fails its
///   batch, and is retried like a broker outage; it is never marked published.
/// - A row the broker refuses every time (a 406 such as a message over the broker's
///   `max_message_size`) is found by publishing the batch's rows one at a time, each alone on the
///   channel (``AMQPPublisher/publishAlone(_:)``), so that a refusal counts against the row that
///   caused it and never against a row of a batch in flight beside it. After
///   ``Configuration/maxAttempts`` refusals it is parked (`parked_at`, `last_error`): later rows
///   flow, `/replication/status` and the metrics count it, and ``Outbox/retryParked(on:)``
///   (`POST /replication/outbox/retry-parked`) gives it back to the relay.
/// - A basic.nack refuses one message: the rows of the batch that were confirmed are marked, the
///   nacked ones stay. A nack usually means back-pressure (a queue at its `x-max-length` with
///   `overflow: reject-publish`, a quorum queue without a majority), not a bad message: a nacked row
///   is parked only once it has been refused for ``Configuration/parkAfter`` as well.
/// - A crash between the broker's confirm and the commit publishes a row again;
///   consumers are idempotent, so that is harmless (at-least-once delivery). For the
///   same reason the marking commits without waiting for its WAL flush
///   (`synchronous_commit = off`): losing it in a crash only means publishing again.
public final class OutboxRelay: Service, Sendable {
    /// How the relay batches and polls.
    public struct Configuration: Sendable {
        /// Rows per batch (one confirm window, one transaction).
        public var batchSize: Int = 100
        /// Batches in flight at once, each in its own transaction on its own pooled connection.
        ///
        /// More than one lowers the tail of the replication lag under load (an event committed
        /// while a batch waits for its confirms is published at once) and costs throughput (the
        /// batches are smaller): measured in docs/benchmarks.md.
        public var concurrency: Int = 1
        /// How often to look for rows when nobody calls ``OutboxRelay/wake()``.
        public var pollInterval: Duration = .seconds(1)
        /// The delays between retries of a batch that could not be published.
        public var retry: Backoff = Backoff()
        /// Refusals of one row by the broker before it is parked.
        public var maxAttempts: Int = 5
        /// How long the broker must have been nacking a row before it is parked (besides
        /// ``maxAttempts``); nil never parks a nacked row. A 406 refusal needs no such wait.
        public var parkAfter: Duration? = .seconds(600)
        /// The AMQP `app_id` of the published messages.
        public var appID: String
        /// The AMQP `user_id` of the published messages: the publisher's broker user, which RabbitMQ
        /// validates, so that consumers know who published (nil leaves it out).
        public var userID: String?
        /// The event types after which a record's earlier events are erased (``Erasure``): a row
        /// published after its record's deletion has its payload erased as it is marked published.
        public var erasingEvents: [String] = []

        /// Creates a configuration.
        public init(
            appID: String, batchSize: Int = 100, concurrency: Int = 1, pollInterval: Duration = .seconds(1), retry: Backoff = Backoff(),
            maxAttempts: Int = 5, parkAfter: Duration? = .seconds(600)
        ) {
            self.parkAfter = parkAfter
            self.appID = appID
            self.batchSize = batchSize
            self.concurrency = concurrency
            self.pollInterval = pollInterval
            self.retry = retry
            self.maxAttempts = maxAttempts
        }
    }

    private let configuration: Configuration
    private let database: PostgresClient
    private let publisher: AMQPPublisher
    private let logger: Logger
    /// Wake-ups; a worker takes all that are pending at once, so any number of them while
    /// every worker is busy count as one more drain.
    private let wakeUps = BatchQueue<Void>()
    private let metrics = RelayMetrics()
    private let spansRecorded = Spans.areRecorded

    /// Creates a relay that publishes `database`'s outbox through `publisher`.
    public init(configuration: Configuration, database: PostgresClient, publisher: AMQPPublisher, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.publisher = publisher
        self.logger = logger
    }

    /// Asks the relay to look at the outbox now. Cheap and non-blocking; call it after each commit.
    public func wake() {
        wakeUps.push(())
    }

    /// Drains the outbox on every wake-up and poll until graceful shutdown; the
    /// batches in flight at shutdown are finished.
    public func run() async throws {
        logger.info(
            "outbox relay started",
            metadata: ["relay.batch_size": "\(configuration.batchSize)", "relay.concurrency": "\(configuration.concurrency)"]
        )
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { [wakeUps, pollInterval = configuration.pollInterval] in
                    // The fallback poll, and the backlog gauges; it ends quietly when the relay stops.
                    var backlogRecordedAt: ContinuousClock.Instant?
                    while !Task.isCancelled {
                        wakeUps.push(())
                        // At most once a second: the gauges cost a pool connection and a query.
                        if backlogRecordedAt.map({ .now - $0 >= .seconds(1) }) ?? true {
                            backlogRecordedAt = .now
                            await self.recordBacklog()
                        }
                        try? await Task.sleep(for: pollInterval)
                    }
                }
                await withDiscardingTaskGroup { workers in
                    for _ in 0..<max(1, configuration.concurrency) {
                        workers.addTask { await self.work() }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wakeUps.finish()
        }
        logger.info("outbox relay stopped")
    }

    /// One of the relay's workers: drains whenever woken, until the relay stops.
    private func work() async {
        var backoff = configuration.retry
        while await wakeUps.take(max: .max) != nil {
            do {
                try await drain()
                backoff.reset()
            } catch {
                let delay = backoff.next()
                logger.warning(
                    "outbox publish failed, will retry",
                    metadata: ["error": "\(error)", "retry.in_ms": "\(delay.milliseconds)"]
                )
                try? await Task.sleep(for: delay)
                wakeUps.push(())
            }
        }
    }

    /// Publishes batches until one comes back short, or shutdown begins.
    ///
    /// - Throws: what made a batch fail (it rolled back), or ``OutboxRefusal`` after a batch in
    ///   which the broker refused rows, so that the worker backs off before trying them again.
    func drain() async throws {
        while true {
            let outcome = try await publishBatch()
            if outcome.refused > 0 { throw OutboxRefusal(count: outcome.refused) }
            if outcome.rows < configuration.batchSize || Task.isShuttingDownGracefully { return }
        }
    }

    /// What one batch did.
    struct BatchOutcome: Equatable {
        /// The rows it read.
        var rows: Int
        /// Of those, the rows the broker refused (counted on the row, parked after ``Configuration/maxAttempts``).
        var refused: Int
    }

    /// Publishes one batch: marks the rows the broker confirmed, counts a refusal on each row it
    /// refused, and parks a row refused ``Configuration/maxAttempts`` times.
    func publishBatch() async throws -> BatchOutcome {
        try await database.withTransaction { connection in
            try await connection.execute("SET LOCAL synchronous_commit = off")
            let rows = try await connection.query(
                """
                SELECT sequence, event_id, event_type, exchange, payload, headers::text, request_id, created_at
                FROM outbox
                WHERE published_at IS NULL AND parked_at IS NULL
                ORDER BY sequence
                LIMIT $1
                FOR UPDATE SKIP LOCKED
                """,
                [configuration.batchSize]
            )
            guard !rows.isEmpty else { return BatchOutcome(rows: 0, refused: 0) }
            let sequences = try rows.map { try $0.decode(0, as: Int64.self) }
            let outboxMessages = try rows.map(OutboxMessage.init(row:))
            let messages = try outboxMessages.map { try $0.amqpMessage(appID: configuration.appID, userID: configuration.userID) }
            let span = spansRecorded ? publishSpan(outboxMessages) : nil
            defer { span?.end() }
            let started = ContinuousClock.now
            var published = sequences
            var refusals: [(sequence: Int64, error: AMQPError)] = []
            do {
                // A nack is the nacked message's own: the others are published, the nacked rows stay.
                let nacked = Set(try await publisher.publishCollectingNacks(messages))
                if !nacked.isEmpty {
                    published = sequences.indices.filter { !nacked.contains($0) }.map { sequences[$0] }
                    refusals = nacked.sorted().map { (sequences[$0], Self.nackError) }
                }
            } catch let error as AMQPError where error.isRefusal {
                // The broker closed the channel (a 406) for a message of this batch or of one in
                // flight beside it. One at a time, each alone on the channel, so that a refusal is
                // the row's own and only the refused rows stay behind.
                logger.warning("outbox batch refused by the broker, publishing its rows one at a time", metadata: ["error": "\(error)"])
                published = []
                for (sequence, message) in zip(sequences, messages) {
                    do {
                        try await publisher.publishAlone([message])
                        published.append(sequence)
                    } catch let error as AMQPError where error.isRefusal {
                        refusals.append((sequence, error))
                    }
                }
            }
            metrics.confirmDuration.recordInterval(since: started)
            if !published.isEmpty {
                if configuration.erasingEvents.isEmpty {
                    try await connection.query("UPDATE outbox SET published_at = clock_timestamp() WHERE sequence = ANY($1)", [published])
                } else {
                    try await connection.query(Erasure.markPublished, [published, configuration.erasingEvents])
                }
            }
            if !refusals.isEmpty {
                try await recordRefusals(refusals, on: connection)
            }
            metrics.published.increment(by: Int64(published.count))
            logger.debug(
                "outbox batch published",
                metadata: ["outbox.count": "\(published.count)", "outbox.last_sequence": "\(published.last ?? 0)"]
            )
            return BatchOutcome(rows: rows.count, refused: refusals.count)
        }
    }

    /// What a nacked row's `last_error` says.
    private static let nackError = AMQPError(
        .nacked, "the broker nacked the message (basic.nack): a queue refused it, e.g. at its x-max-length with overflow reject-publish")

    /// The span of one batch's publish: a batch carries events of many requests, so it links
    /// to each one's transaction span (OpenTelemetry's messaging conventions for a batch).
    private func publishSpan(_ messages: [OutboxMessage]) -> any Span {
        let span = startSpan("\(messages.first?.exchange ?? "outbox") publish", context: .topLevel, ofKind: .producer)
        span.updateAttributes { attributes in
            attributes["messaging.system"] = "rabbitmq"
            attributes["messaging.operation.type"] = "send"
            attributes["messaging.destination.name"] = messages.first?.exchange
            attributes["messaging.batch.message_count"] = messages.count
        }
        for message in messages {
            guard let trace = message.headers["traceparent"].flatMap(TraceParent.init) else { continue }
            span.addLink(SpanLink(context: Spans.context(continuing: trace), attributes: ["messaging.message.id": "\(message.eventId)"]))
        }
        return span
    }

    /// Counts a refusal on each row, with the broker's reason; parks those refused too often (a
    /// nacked row only once it has been refused for ``Configuration/parkAfter``).
    private func recordRefusals(_ refusals: [(sequence: Int64, error: AMQPError)], on connection: PostgresConnection) async throws {
        metrics.refused.increment(by: Int64(refusals.count))
        let closedChannel = refusals.filter { $0.error.code != .nacked }.map(\.sequence)
        let parked = try await connection.query(
            """
            UPDATE outbox SET attempts = outbox.attempts + 1, last_error = refusal.error,
                refused_since = coalesce(outbox.refused_since, clock_timestamp()),
                parked_at = CASE WHEN outbox.attempts + 1 >= $3 AND (outbox.sequence = ANY($4) OR ($5::bigint IS NOT NULL
                    AND clock_timestamp() - outbox.refused_since >= make_interval(secs => $5::double precision / 1000))) THEN clock_timestamp() END
            FROM unnest($1::bigint[], $2::text[]) AS refusal(sequence, error)
            WHERE outbox.sequence = refusal.sequence
            RETURNING outbox.sequence, outbox.event_id::text, outbox.parked_at IS NOT NULL
            """,
            [
                refusals.map(\.sequence), refusals.map { "\($0.error)" }, configuration.maxAttempts, closedChannel,
                configuration.parkAfter?.milliseconds,
            ]
        )
        for row in parked where try row.decode(2, as: Bool.self) {
            let sequence = try row.decode(0, as: Int64.self)
            let eventID = try row.decode(1, as: String.self)
            let reason = refusals.first { $0.sequence == sequence }.map { "\($0.error)" } ?? ""
            logger.error(
                "outbox row parked: the broker kept refusing it",
                metadata: ["outbox.sequence": "\(sequence)", "event.id": "\(eventID)", "error": "\(reason)"]
            )
        }
    }

    /// Updates the backlog gauges (pending rows, age of the oldest).
    private func recordBacklog() async {
        metrics.brokerBlocked.record(publisher.isBlocked ? 1 : 0)
        guard let backlog = try? await OutboxBacklog.read(from: database) else { return }
        metrics.pending.record(backlog.pending)
        metrics.parkedRows.record(backlog.parked)
        metrics.oldestPendingAge.record(Double(backlog.oldestPendingAgeMs) / 1000)
    }
}
