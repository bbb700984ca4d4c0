import AMQP
import Contract
import Foundation
import Logging
import Postgres

/// A resync job (docs/design.md#repair): the source sends the current state of its records (all of them, or
/// the given ids), tombstones included, as snapshot events straight into one subscriber's queue.
public struct ResyncJob: Sendable, Hashable {
    /// What the job is doing.
    public enum State: String, Sendable {
        case running, done, failed
    }

    public var id: UUID
    /// The subscriber whose queue gets the snapshots.
    public var subscriber: String
    public var state: State
    /// The records to send: the given ids (those that do not exist count as sent), or the records
    /// when the job started (raised to what it sent, when records were created meanwhile).
    public var total: Int64
    /// The records sent and confirmed by the broker so far.
    public var sent: Int64
    /// Why a failed job failed.
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date?
    /// The instance that runs (or ran) the job: host name and process id.
    public var owner: String?
    /// When its instance last said it was still running the job.
    public var heartbeatAt: Date

    /// The columns ``init(row:staleAfter:)`` reads, the heartbeat's age by the database's clock last.
    static let columns = """
        id, subscriber, state, total, sent, error, started_at, finished_at, owner, heartbeat_at,
        (extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::bigint
        """

    /// The job of `row` (``columns``); a running job whose heartbeat is older than `staleAfter`
    /// is dead, and reads as failed (abandoned) since its last heartbeat.
    init(row: PostgresRow, staleAfter: Duration) throws {
        id = try row.decode(0)
        subscriber = try row.decode(1)
        state = State(rawValue: try row.decode(2)) ?? .failed
        total = try row.decode(3)
        sent = try row.decode(4)
        error = try row.decode(5)
        startedAt = try row.decode(6)
        finishedAt = try row.decode(7)
        owner = try row.decode(8)
        heartbeatAt = try row.decode(9)
        let heartbeatAgeMs: Int64 = try row.decode(10)
        if state == .running && heartbeatAgeMs > staleAfter.milliseconds {
            state = .failed
            error = Self.abandoned(owner: owner)
            finishedAt = heartbeatAt
        }
    }

    /// Why an abandoned job failed.
    static func abandoned(owner: String?) -> String {
        "abandoned: its instance (\(owner ?? "unknown")) stopped sending heartbeats"
    }

    /// This process, as a job's ``owner``: host name and process id.
    public static let thisInstance = "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
}

/// Why a resync cannot start.
public enum ResyncError: Error, Sendable, Hashable {
    /// A job for this subscriber is running.
    case alreadyRunning(subscriber: String)
    /// The subscriber is not one this service resyncs to (`RESYNC_SUBSCRIBERS`).
    case notAllowed(subscriber: String, allowed: [String])
}

/// What the operations endpoints need of a service's resyncs, whatever its record type.
public protocol ResyncJobs: Sendable {
    /// Starts a job for `subscriber` (all records, or `ids`); a `repair` overwrites (see ``Resync/start(subscriber:ids:repair:)``).
    func start(subscriber: String, ids: [UUID]?, repair: Bool) async throws -> ResyncJob
    /// The job `id`, or nil.
    func job(id: UUID) async throws -> ResyncJob?
    /// Marks the jobs whose instance stopped (their heartbeat is stale) as failed; the jobs that
    /// other live instances run are left alone.
    func failInterrupted() async throws
}

/// Runs resync jobs for one source: the records of its own table and its tombstones, sent by its
/// publisher as `Record.snapshotEvent` events to the default exchange with the subscriber's queue
/// as routing key (mandatory, confirmed), so other subscribers of the fanout see nothing.
///
/// Jobs run in the background, a page of records at a time, in id order; their progress is in
/// `resync_jobs`. Live replication goes on meanwhile: versions make the race between a snapshot
/// and a live change harmless.
///
/// Each job has an owner (the instance that runs it) and a heartbeat, renewed every
/// ``Configuration/heartbeatInterval`` while it runs. A job whose heartbeat is older than
/// ``Configuration/staleAfter`` is dead: its instance stopped, or lost its database, before it
/// could say how the job ended. A dead job reads as failed (abandoned), and no longer stops a new
/// job for its subscriber; start-up marks dead jobs failed, never the live jobs of other instances.
/// Finished jobs are deleted after a retention (``Retention``).
public struct Resync<Record: StoredRecord>: ResyncJobs {
    /// What a job sends, and how.
    public struct Configuration: Sendable {
        /// The service's own table and its tombstones' (trusted constants).
        public var table: String
        public var tombstones: String?
        /// The queue of subscriber `name`.
        public var queue: @Sendable (_ subscriber: String) -> String
        /// Records per page: one query and one confirmed batch of messages.
        public var pageSize: Int
        /// The `app_id` and `user_id` of the messages, as the relay sends them.
        public var appID: String
        public var userID: String?
        /// While the subscriber consumes, a page is sent only when its queue holds at most this many
        /// messages: live events share that queue, and wait behind no more snapshots than these.
        public var maxQueued: Int
        /// How often the queue's depth is read while it is above ``maxQueued``.
        public var pollInterval: Duration
        /// The subscribers a job may send to (their queues are bound to this service's exchange).
        public var subscribers: Set<String>
        /// How often a running job renews its heartbeat.
        public var heartbeatInterval: Duration = .seconds(5)
        /// A running job whose heartbeat is older than this is dead (several missed heartbeats).
        public var staleAfter: Duration = .seconds(30)
        /// This instance, as the owner of the jobs it starts.
        public var owner: String = ResyncJob.thisInstance

        public init(
            table: String, tombstones: String?, queue: @escaping @Sendable (String) -> String, pageSize: Int = 200, appID: String,
            userID: String?, subscribers: Set<String>, maxQueued: Int = 400, pollInterval: Duration = .milliseconds(20)
        ) {
            self.subscribers = subscribers
            self.table = table
            self.tombstones = tombstones
            self.queue = queue
            self.pageSize = pageSize
            self.appID = appID
            self.userID = userID
            self.maxQueued = maxQueued
            self.pollInterval = pollInterval
        }
    }

    let configuration: Configuration
    let database: PostgresClient
    let publisher: AMQPPublisher
    /// The broker, for the connection that reads the subscriber's queue depth.
    let amqp: AMQPConfiguration
    let logger: Logger

    public init(configuration: Configuration, database: PostgresClient, publisher: AMQPPublisher, amqp: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.publisher = publisher
        self.amqp = amqp
        self.logger = logger
    }

    /// Marks the dead jobs (a stale heartbeat: their instance stopped) as failed, abandoned
    /// (called once at start-up). A job another live instance runs keeps running.
    public func failInterrupted() async throws {
        try await failAbandoned(subscriber: nil)
    }

    /// Marks the dead running jobs, of `subscriber` or of all, as failed since their last heartbeat.
    private func failAbandoned(subscriber: String?) async throws {
        let abandoned = try await database.query(
            """
            UPDATE resync_jobs SET state = 'failed', finished_at = heartbeat_at,
                error = 'abandoned: its instance (' || coalesce(owner, 'unknown') || ') stopped sending heartbeats'
            WHERE state = 'running' AND ($1::text IS NULL OR subscriber = $1)
                AND heartbeat_at < clock_timestamp() - make_interval(secs => $2::double precision / 1000)
            RETURNING id
            """,
            [subscriber, configuration.staleAfter.milliseconds])
        for row in abandoned {
            let id = try row.decode(0, as: UUID.self)
            logger.warning("resync job abandoned: its instance stopped sending heartbeats", metadata: ["resync.id": "\(id.lowercased)"])
        }
    }

    /// Starts a job for `subscriber` (all records, or `ids`) and returns it, running.
    /// Throws ``ResyncError/alreadyRunning(subscriber:)`` while another job for it runs.
    /// Throws ``ResyncError/notAllowed(subscriber:allowed:)`` for a subscriber not in
    /// ``Configuration/subscribers``.
    ///
    /// A `repair` marks every snapshot `x-repair: overwrite`: the subscriber writes it over its
    /// row at any version (it trusts the header only from this service's publisher user). And each
    /// of `ids` that this service has neither as a record nor as a tombstone goes first as a
    /// tombstone at version 1, so the subscriber drops a record its source never had.
    public func start(subscriber: String, ids: [UUID]?, repair: Bool = false) async throws -> ResyncJob {
        guard configuration.subscribers.contains(subscriber) else {
            throw ResyncError.notAllowed(subscriber: subscriber, allowed: configuration.subscribers.sorted())
        }
        let id = TimeOrderedUUID.make()
        let job: ResyncJob
        // A dead job of this subscriber no longer stands in the way.
        try await failAbandoned(subscriber: subscriber)
        do {
            let total = if let ids { Int64(ids.count) } else { try await count() }
            job = try ResyncJob(
                row: try await database.query(
                    """
                    INSERT INTO resync_jobs (id, subscriber, queue, state, ids, total, owner) VALUES ($1, $2, $3, 'running', $4, $5, $6)
                    RETURNING \(ResyncJob.columns)
                    """,
                    [id, subscriber, configuration.queue(subscriber), ids, total, configuration.owner]
                )[0], staleAfter: configuration.staleAfter)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ResyncError.alreadyRunning(subscriber: subscriber)
        }
        logger.info("resync started", metadata: ["resync.id": "\(id.lowercased)", "subscriber": "\(subscriber)", "total": "\(job.total)"])
        Task { await run(job, ids: ids, repair: repair) }
        return job
    }

    /// The job `id`, or nil.
    public func job(id: UUID) async throws -> ResyncJob? {
        try await database.query("SELECT \(ResyncJob.columns) FROM resync_jobs WHERE id = $1", [id]).first.map {
            try ResyncJob(row: $0, staleAfter: configuration.staleAfter)
        }
    }

    /// Runs the job beside its heartbeat; whichever ends first ends the other (a heartbeat ends
    /// when the job is no longer running: it finished, or another instance declared it dead).
    private func run(_ job: ResyncJob, ids: [UUID]?, repair: Bool) async {
        await withTaskGroup { group in
            group.addTask { await self.work(job, ids: ids, repair: repair) }
            group.addTask { await self.heartbeat(job.id) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Renews the job's heartbeat every ``Configuration/heartbeatInterval`` while it is running
    /// here; a renewal that fails (the database is away) is tried again at the next beat. Returns
    /// when the job is no longer running, or on cancellation.
    private func heartbeat(_ id: UUID) async {
        while true {
            do {
                try await Task.sleep(for: configuration.heartbeatInterval)
            } catch {
                return
            }
            do {
                let running = try await database.query(
                    """
                    UPDATE resync_jobs SET heartbeat_at = date_trunc('milliseconds', clock_timestamp())
                    WHERE id = $1 AND state = 'running' RETURNING id
                    """, [id])
                if running.isEmpty { return }
            } catch {
                logger.warning("resync heartbeat failed", metadata: ["resync.id": "\(id.lowercased)", "error": "\(error)"])
            }
        }
    }

    /// Sends the job; marks it failed if that fails. When even that fails (the database is
    /// away), the job's heartbeat stops with it, and the job is abandoned once it is stale.
    private func work(_ job: ResyncJob, ids: [UUID]?, repair: Bool) async {
        do {
            // Its own connection for reading the subscriber's queue depth, closed however the job ends.
            let depths = try await AMQPConnection.connect(amqp, logger: logger)
            do {
                try await send(job, ids: ids, repair: repair, reading: depths)
            } catch {
                await depths.close()
                throw error
            }
            await depths.close()
        } catch {
            logger.error("resync failed", metadata: ["resync.id": "\(job.id.lowercased)", "error": "\(error)"])
            do {
                try await database.query(
                    """
                    UPDATE resync_jobs SET state = 'failed', error = $2, finished_at = date_trunc('milliseconds', clock_timestamp())
                    WHERE id = $1 AND state = 'running'
                    """,
                    [job.id, "\(error)"])
            } catch let markError {
                logger.error(
                    "resync failure not recorded; the job reads as abandoned once its heartbeat is stale",
                    metadata: ["resync.id": "\(job.id.lowercased)", "error": "\(markError)"])
            }
        }
    }

    /// Sends the job's pages in id order, each once the subscriber's queue has room.
    private func send(_ job: ResyncJob, ids: [UUID]?, repair: Bool, reading depths: AMQPConnection) async throws {
        let queue = configuration.queue(job.subscriber)
        if repair, let ids {
            let unknown = try await unknownTombstones(of: ids)
            let epoch = try await self.epoch()
            if !unknown.isEmpty {
                try await publisher.publish(try unknown.map { try message($0, to: queue, job: job.id, repair: true, epoch: epoch) })
            }
        }
        var after: UUID?
        while true {
            try await waitForRoom(in: queue, reading: depths)
            let page = try await snapshots(after: after, ids: ids)
            let epoch = try await self.epoch()
            let messages = try page.map { try message($0, to: queue, job: job.id, repair: repair, epoch: epoch) }
            if !messages.isEmpty { try await publisher.publish(messages) }
            // With given ids, the ones that do not exist at all count as sent when the job ends.
            guard try await progress(job.id, sent: page.count, finished: page.count < configuration.pageSize, fillTotal: ids != nil) else {
                logger.warning("resync stopped: its job is no longer running", metadata: ["resync.id": "\(job.id.lowercased)"])
                return
            }
            if page.count < configuration.pageSize { break }
            after = page.last?.id
        }
        logger.info("resync done", metadata: ["resync.id": "\(job.id.lowercased)", "subscriber": "\(job.subscriber)"])
    }

    /// Waits while `queue` holds more than ``Configuration/maxQueued`` ready messages: a
    /// subscriber that applies them keeps pace with the job, and its live events never queue
    /// behind more than that many snapshots. A queue without a consumer (a subscriber not
    /// started yet, or down) gets no more than that either: the job waits until one drains it,
    /// so a resync never floods a queue into the broker's memory alarm.
    private func waitForRoom(in queue: String, reading depths: AMQPConnection) async throws {
        while true {
            let counts = try await depths.counts(queue: queue)
            if counts.messages <= configuration.maxQueued { return }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// Adds `sent` to the job's progress (and ends it when `finished`, with `sent` and `total`
    /// equal: `fillTotal` for given ids, some of which may not exist); false when the job is no
    /// longer running (marked failed by a restart of another instance).
    private func progress(_ id: UUID, sent: Int, finished: Bool, fillTotal: Bool) async throws -> Bool {
        try await !database.query(
            """
            UPDATE resync_jobs
            SET sent = CASE WHEN $3 AND $4 THEN total ELSE sent + $2 END,
                total = CASE WHEN $3 AND NOT $4 THEN greatest(total, sent + $2) ELSE total END,
                state = CASE WHEN $3 THEN 'done' ELSE state END,
                finished_at = CASE WHEN $3 THEN date_trunc('milliseconds', clock_timestamp()) END
            WHERE id = $1 AND state = 'running'
            RETURNING id
            """,
            [id, sent, finished, fillTotal]
        ).isEmpty
    }

    /// The records (own rows and tombstones) in the job's next page: after `after` in id order, of `ids` if given.
    private func snapshots(after: UUID?, ids: [UUID]?) async throws -> [RecordChange<Record>] {
        let limit = configuration.pageSize
        let filter = "($1::uuid IS NULL OR id > $1) AND ($2::uuid[] IS NULL OR id = ANY($2))"
        var changes = try await database.query(
            "SELECT \(Record.columnList) FROM \(configuration.table) WHERE \(filter) ORDER BY id LIMIT $3", [after, ids, limit]
        ).map { RecordChange<Record>.record(try Record(row: $0)) }
        if let tombstones = configuration.tombstones {
            changes += try await database.query(
                "SELECT id, version, deleted_at FROM \(tombstones) WHERE \(filter) ORDER BY id LIMIT $3", [after, ids, limit]
            ).map { RecordChange<Record>.deleted(Tombstone(id: try $0.decode(0), version: try $0.decode(1), deletedAt: try $0.decode(2))) }
        }
        return Array(changes.sorted { $0.id.uuidString < $1.id.uuidString }.prefix(limit))
    }

    /// A tombstone (version 1, deleted now) for each of `ids` that is neither a record nor a tombstone here.
    private func unknownTombstones(of ids: [UUID]) async throws -> [RecordChange<Record>] {
        let tombstones = configuration.tombstones.map { " AND NOT EXISTS (SELECT 1 FROM \($0) AS gone WHERE gone.id = given.id)" } ?? ""
        let now = Date()
        return try await database.query(
            """
            SELECT id FROM unnest($1::uuid[]) AS given(id)
            WHERE NOT EXISTS (SELECT 1 FROM \(configuration.table) AS own WHERE own.id = given.id)\(tombstones)
            """,
            [ids]
        ).map { RecordChange<Record>.deleted(Tombstone(id: try $0.decode(0), version: 1, deletedAt: now)) }
    }

    /// This database's epoch (``ReplicationSchema/epochHeader``).
    private func epoch() async throws -> Int64 {
        try await database.query("SELECT epoch FROM replication_epoch")[0].decode(0)
    }

    private func count() async throws -> Int64 {
        let tombstones = configuration.tombstones.map { " + (SELECT count(*) FROM \($0))" } ?? ""
        return try await database.query("SELECT (SELECT count(*) FROM \(configuration.table))\(tombstones)")[0].decode(0)
    }

    /// The snapshot event of `change`, for `queue` through the default exchange.
    private func message(_ change: RecordChange<Record>, to queue: String, job: UUID, repair: Bool, epoch: Int64) throws -> AMQPMessage {
        let data: Data
        let changedAt: Date
        switch change {
        case .record(let record):
            data = try JSONEncoder().encode(record)
            changedAt = Date()
        case .deleted(let tombstone):
            data = try JSONEncoder().encode(tombstone)
            changedAt = tombstone.deletedAt
        }
        var message = try OutboxMessage(
            sequence: 0, eventId: TimeOrderedUUID.make(), type: Record.snapshotEvent.rawValue, exchange: "",
            data: String(decoding: data, as: UTF8.self),
            headers: ["x-resync-job": job.lowercased, ReplicationSchema.epochHeader: "\(epoch)"]
                .merging(repair ? [IncomingEvent.repairHeader: IncomingEvent.overwrite] : [:]) { $1 },
            requestId: "resync-\(job.lowercased)", createdAt: changedAt
        ).amqpMessage(appID: configuration.appID, userID: configuration.userID)
        message.routingKey = queue
        return message
    }
}
