import Contract
import Foundation
import Postgres

/// The transactional outbox: events are written in the same database transaction
/// as the change they describe, and published later by an ``OutboxRelay``.
public enum Outbox {
    /// Appends `event` on `connection`, which must be inside the transaction of
    /// the change, and returns its sequence number.
    ///
    /// Nothing is published here: the relay publishes after the commit, so an event
    /// can never describe a change that rolled back, and a change can never commit
    /// without its event. The event's headers get the database's epoch
    /// (``ReplicationSchema/epochHeader``), as it is in the change's transaction.
    @discardableResult
    public static func append(_ event: OutboxEvent, on connection: PostgresConnection) async throws -> Int64 {
        let result = try await connection.query(insert + " RETURNING sequence", try binds(of: event))
        return try result[0].decode(0, as: Int64.self)
    }

    /// ``append(_:on:)`` as the last statement of the transaction: it goes to the database with the
    /// transaction's `COMMIT`, in one round trip (``PostgresConnection/queryAtCommit(_:_:)``).
    public static func appendAtCommit(_ event: OutboxEvent, on connection: PostgresConnection) async throws {
        try await connection.queryAtCommit(insert, try binds(of: event))
    }

    private static let insert = """
        INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb || jsonb_build_object($7::text, (SELECT epoch FROM replication_epoch)::text))
        """

    private static func binds(of event: OutboxEvent) throws -> [(any PostgresEncodable)?] {
        [event.eventId, event.type, event.exchange, event.data, event.requestId, json(event.headers), ReplicationSchema.epochHeader]
    }

    private static func json(_ headers: [String: String]) -> String {
        JSONString.object(headers.sorted { $0.key < $1.key })
    }

    /// Returns the parked rows (those the broker kept refusing) to the relay: their attempts, and
    /// the time they have been refused for, start again from zero. Returns how many; wake the relay afterwards.
    public static func retryParked(on database: PostgresClient) async throws -> Int {
        try await database.withConnection { connection in
            try await connection.query(
                """
                UPDATE outbox SET parked_at = NULL, attempts = 0, refused_since = NULL
                WHERE parked_at IS NOT NULL AND published_at IS NULL
                RETURNING sequence
                """
            ).count
        }
    }
}
