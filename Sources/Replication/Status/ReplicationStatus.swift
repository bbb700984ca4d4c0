import Foundation
import Postgres

/// The replication state of one service, read from its database: counts since
/// the database was created, not since the process started.
public struct ReplicationStatus: Sendable, Hashable {
    /// The outbox's backlog.
    public var outbox: OutboxBacklog
    /// Events applied to the replica (each record once).
    public var processed: Int64
    /// Repeated event ids, plus events not newer than the version the replica held (ignored).
    public var duplicates: Int64
    /// Messages sent to the dead-letter queue.
    public var deadLettered: Int64
    /// The replica table's count and digest.
    public var replica: TableDigest
    /// The service's own table's count and digest (what the peer's replica should match).
    public var source: TableDigest
    /// The depths of the service's queue and dead-letter queue, when the broker answered.
    public var queues: QueueDepths.Reading? = nil

    /// Reads the status; `replicaTable` and `sourceTable` are the service's table names (trusted constants).
    public static func read(from database: PostgresClient, replicaTable: String, sourceTable: String) async throws -> ReplicationStatus {
        try await database.withConnection { connection in
            let outbox = try await OutboxBacklog.read(on: connection)
            let inbox = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE outcome = 'applied'),
                       count(*) FILTER (WHERE outcome = 'replay'),
                       coalesce((SELECT value FROM consumer_counters WHERE name = 'duplicate_events'), 0),
                       coalesce((SELECT value FROM consumer_counters WHERE name = 'dead_lettered'), 0)
                FROM inbox
                """
            )
            let row = inbox[0]
            return ReplicationStatus(
                outbox: outbox,
                processed: try row.decode(0),
                duplicates: try row.decode(1, as: Int64.self) + row.decode(2, as: Int64.self),
                deadLettered: try row.decode(3),
                // Tombstones are not records: the digest is of the records the replica holds.
                replica: try await TableDigest.read(table: replicaTable, where: ReplicationSchema.liveReplicaRows, on: connection),
                source: try await TableDigest.read(table: sourceTable, on: connection)
            )
        }
    }
}
