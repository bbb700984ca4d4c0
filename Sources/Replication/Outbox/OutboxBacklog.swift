import Postgres

/// The outbox's unpublished rows.
public struct OutboxBacklog: Sendable, Hashable, Encodable {
    /// Rows not yet confirmed by the broker, parked ones excluded.
    public var pending: Int64
    /// Rows the broker refused every time, set aside until an operator retries them (``Outbox/retryParked(on:)``).
    public var parked: Int64
    /// Age of the oldest of them in milliseconds; 0 when none.
    public var oldestPendingAgeMs: Int64
    /// The highest published sequence number; 0 before the first publish.
    public var lastPublishedSequence: Int64

    /// Creates a backlog.
    public init(pending: Int64, oldestPendingAgeMs: Int64, lastPublishedSequence: Int64, parked: Int64 = 0) {
        self.pending = pending
        self.oldestPendingAgeMs = oldestPendingAgeMs
        self.lastPublishedSequence = lastPublishedSequence
        self.parked = parked
    }

    /// Reads the backlog on a pooled connection.
    public static func read(from database: PostgresClient) async throws -> OutboxBacklog {
        try await database.withConnection { try await read(on: $0) }
    }

    /// Reads the backlog on `connection`.
    public static func read(on connection: PostgresConnection) async throws -> OutboxBacklog {
        let result = try await connection.query(
            """
            SELECT count(*) FILTER (WHERE parked_at IS NULL),
                   coalesce((extract(epoch FROM clock_timestamp() - min(created_at) FILTER (WHERE parked_at IS NULL)) * 1000)::bigint, 0),
                   coalesce((SELECT sequence FROM outbox WHERE published_at IS NOT NULL ORDER BY sequence DESC LIMIT 1), 0),
                   count(*) FILTER (WHERE parked_at IS NOT NULL)
            FROM outbox
            WHERE published_at IS NULL
            """
        )
        let row = result[0]
        return OutboxBacklog(
            pending: try row.decode(0),
            oldestPendingAgeMs: max(0, try row.decode(1)),
            lastPublishedSequence: try row.decode(2),
            parked: try row.decode(3)
        )
    }
}
