import Postgres

/// The consumer's counters that cannot be derived from the inbox, kept in the
/// database so that they count since the database was created.
enum ConsumerCounter: String, Sendable {
    /// Deliveries whose event id was already in the inbox.
    case duplicateEvents = "duplicate_events"
    /// Messages sent to the dead-letter queue.
    case deadLettered = "dead_lettered"

    /// Adds `count`, on `connection` (inside the caller's transaction, if any).
    func increment(by count: Int = 1, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO consumer_counters (name, value) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET value = consumer_counters.value + excluded.value
            """,
            [rawValue, count]
        )
    }
}
