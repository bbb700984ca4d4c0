import Foundation
import Postgres

/// The replication state of one service, read from its database: counts since
/// the database was created, not since the process started.
public struct ReplicationStatus: Sendable, Hashable {
    /// The outbox's backlog.
    public var outbox: OutboxBacklog
    /// Events applied to the replica (each record once).
    public var processed: Int64
    /// Repeated event ids plus replays of a record already present.
    public var duplicates: Int64
    /// Messages sent to the dead-letter queue.
    public var deadLettered: Int64
    /// The replica table's count and digest.
    public var replica: TableDigest
    /// The service's own table's count and digest (what the peer's replica should match).
    public var source: TableDigest

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
                replica: try await TableDigest.read(table: replicaTable, on: connection),
                source: try await TableDigest.read(table: sourceTable, on: connection)
            )
        }
    }
}

/// The outbox's unpublished rows.
public struct OutboxBacklog: Sendable, Hashable {
    /// Rows not yet confirmed by the broker.
    public var pending: Int64
    /// Age of the oldest of them in milliseconds; 0 when none.
    public var oldestPendingAgeMs: Int64
    /// The highest published sequence number; 0 before the first publish.
    public var lastPublishedSequence: Int64

    /// Reads the backlog on a pooled connection.
    public static func read(from database: PostgresClient) async throws -> OutboxBacklog {
        try await database.withConnection { try await read(on: $0) }
    }

    /// Reads the backlog on `connection`.
    public static func read(on connection: PostgresConnection) async throws -> OutboxBacklog {
        let result = try await connection.query(
            """
            SELECT count(*),
                   coalesce((extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::bigint, 0),
                   coalesce((SELECT sequence FROM outbox WHERE published_at IS NOT NULL ORDER BY sequence DESC LIMIT 1), 0)
            FROM outbox
            WHERE published_at IS NULL
            """
        )
        let row = result[0]
        return OutboxBacklog(
            pending: try row.decode(0),
            oldestPendingAgeMs: max(0, try row.decode(1)),
            lastPublishedSequence: try row.decode(2)
        )
    }
}

/// A table's row count and an order-independent digest of its ids: the
/// 64-bit wrapping sum of the first 8 bytes of `md5(id::text)` (the id in its
/// lowercase canonical form), as 16 hex digits. Equal sets of ids give equal
/// digests, whatever the order they arrived in.
public struct TableDigest: Sendable, Hashable {
    /// The number of rows.
    public var count: Int64
    /// 16 lowercase hex digits.
    public var digest: String

    /// Creates a digest.
    public init(count: Int64, digest: String) {
        self.count = count
        self.digest = digest
    }

    /// The digest of `ids`, computed the way the database computes it, so a client can compare.
    public init<IDs: Sequence>(ids: IDs) where IDs.Element == UUID {
        var count: Int64 = 0
        var sum: UInt64 = 0
        for id in ids {
            count += 1
            sum &+= MD5.prefix64(of: Array(id.uuidString.lowercased().utf8))
        }
        self.init(count: count, digest: Self.hex(sum))
    }

    /// Reads `table`'s digest (`table` is a trusted constant: a name cannot be a bound parameter).
    public static func read(table: String, on connection: PostgresConnection) async throws -> TableDigest {
        let result = try await connection.query(
            """
            SELECT count(*),
                   coalesce(sum(('x' || left(md5(id::text), 16))::bit(64)::bigint::numeric), 0)::text
            FROM \(table)
            """
        )
        let count: Int64 = try result[0].decode(0)
        let sumText: String = try result[0].decode(1)
        return TableDigest(count: count, digest: hex(wrapping: sumText))
    }

    /// Reduces the exact decimal sum of signed 64-bit values modulo 2^64.
    static func hex(wrapping decimal: String) -> String {
        var negative = false
        var value: UInt64 = 0
        for character in decimal {
            if character == "-" { negative = true; continue }
            guard let digit = character.wholeNumberValue else { continue }
            value = value &* 10 &+ UInt64(digit)
        }
        return hex(negative ? 0 &- value : value)
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
