import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Deletes what only grows: published outbox rows, inbox rows, idempotency keys and finished
/// resync jobs older than their retention, in small batches (each a short transaction), every ``Configuration/interval``.
///
/// Deduplication stays correct without the inbox row: a replayed create finds its record in the
/// replica (`ON CONFLICT DO NOTHING`) and changes nothing. The outbox's highest row is always
/// kept, so `lastPublishedSequence` keeps counting from where it was.
public final class Retention: Service, Sendable {
    /// How long each kind of row is kept, and how the pruning runs.
    public struct Configuration: Sendable {
        /// Published outbox rows (by `published_at`); nil keeps them.
        public var outbox: Duration?
        /// Inbox rows (by `processed_at`); nil keeps them.
        public var inbox: Duration?
        /// Idempotency keys (by `created_at`); nil keeps them. A retry with a pruned key is a new request.
        public var idempotencyKeys: Duration?
        /// Resync jobs that ended (by `finished_at`), and dead ones (by their last heartbeat); nil keeps them.
        public var resyncJobs: Duration?
        /// Rows deleted in one statement.
        public var batchSize: Int = 1000
        /// How often a pass runs.
        public var interval: Duration = .seconds(10)

        /// Creates a configuration.
        public init(
            outbox: Duration? = .seconds(7 * 86_400), inbox: Duration? = .seconds(7 * 86_400), idempotencyKeys: Duration? = .seconds(86_400),
            resyncJobs: Duration? = .seconds(7 * 86_400), batchSize: Int = 1000, interval: Duration = .seconds(10)
        ) {
            self.resyncJobs = resyncJobs
            self.outbox = outbox
            self.inbox = inbox
            self.idempotencyKeys = idempotencyKeys
            self.batchSize = batchSize
            self.interval = interval
        }
    }

    /// One table's pruning: its name and the statement that deletes one batch.
    struct Target: Sendable {
        var table: String
        var retention: Duration
        var statement: String
    }

    private let configuration: Configuration
    private let database: PostgresClient
    private let logger: Logger
    private let targets: [Target]

    /// Creates the pruner of `database`'s tables.
    public init(configuration: Configuration, database: PostgresClient, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        // Each batch is the oldest rows past the cutoff, by the table's own order; the outbox
        // keeps its highest row (and never an unpublished one: published_at IS NULL is never old).
        let tables: [(table: String, retention: Duration?, key: String, age: String, order: String, keep: String)] = [
            ("outbox", configuration.outbox, "sequence", "published_at", "sequence", " AND sequence < (SELECT max(sequence) FROM outbox)"),
            ("inbox", configuration.inbox, "event_id", "processed_at", "processed_at", ""),
            ("idempotency_keys", configuration.idempotencyKeys, "key", "created_at", "created_at", ""),
            // A running job renews its heartbeat, so only a finished or a dead one is ever this old.
            ("resync_jobs", configuration.resyncJobs, "id", "coalesce(finished_at, heartbeat_at)", "started_at", ""),
        ]
        let targets = tables.compactMap { table -> Target? in
            guard let retention = table.retention else { return nil }
            return Target(
                table: table.table, retention: retention,
                statement: """
                    DELETE FROM \(table.table) WHERE \(table.key) IN (
                        SELECT \(table.key) FROM \(table.table)
                        WHERE \(table.age) < clock_timestamp() - make_interval(secs => $1::double precision / 1000)\(table.keep)
                        ORDER BY \(table.order) LIMIT $2)
                    """)
        }
        self.targets = targets
    }

    /// Prunes every ``Configuration/interval`` until graceful shutdown; a failed pass is logged and tried again next time.
    public func run() async throws {
        guard !targets.isEmpty else { return }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                _ = try await prune()
            } catch {
                logger.warning("retention pass failed; will try again", metadata: ["error": "\(error)"])
            }
            _ = await cancelWhenGracefulShutdown { [interval = configuration.interval] in try? await Task.sleep(for: interval) }
        }
    }

    /// One pass: deletes every table's expired rows, a batch at a time; returns how many per table.
    public func prune() async throws -> [String: Int] {
        var deleted: [String: Int] = [:]
        for target in targets {
            var total = 0
            while !Task.isShuttingDownGracefully {
                let count = try await database.query(target.statement, [Int64(target.retention.milliseconds), configuration.batchSize]).affectedRows
                total += count
                if count < configuration.batchSize { break }
            }
            if total > 0 {
                Counter(label: "replication_retention_deleted_total", dimensions: [("table", target.table)]).increment(by: Int64(total))
                logger.debug("retention deleted rows", metadata: ["table": "\(target.table)", "rows": "\(total)"])
            }
            deleted[target.table] = total
        }
        return deleted
    }
}
