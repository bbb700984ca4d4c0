import Postgres

/// The consumer's counters that cannot be derived from the inbox, kept in the
/// database so that they count since the database was created.
enum ConsumerCounter: String, Sendable {
    /// Deliveries whose event id was already in the inbox.
    case duplicateEvents = "duplicate_events"
    /// Messages sent to the dead-letter queue.
    case deadLettered = "dead_lettered"

    /// Adds one, on `connection` (inside the caller's transaction, if any).
    func increment(on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO consumer_counters (name, value) VALUES ($1, 1)
            ON CONFLICT (name) DO UPDATE SET value = consumer_counters.value + 1
            """,
            [rawValue]
        )
    }
}
