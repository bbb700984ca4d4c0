import Postgres

/// What a subscribing service does with the events in its queue: check them,
/// then write its replica row. ``ReplicaConsumer`` does the rest (inbox, ack,
/// dead-lettering, retries).
public protocol ReplicaEventHandler: Sendable {
    /// The checked change, ready to write.
    associatedtype Change: Sendable

    /// Decodes and validates the event's record; throws ``PoisonMessage`` with
    /// `unknown-type` or `invalid-data` when the event can never be applied.
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> Change

    /// Writes the replica row on `connection`, inside the consumer's transaction
    /// (use `INSERT ... ON CONFLICT (id) DO NOTHING`); returns false when the
    /// record was already there (a replay), which then changes nothing.
    func apply(_ change: Change, of event: IncomingEvent, on connection: PostgresConnection) async throws -> Bool
}

/// What consuming one event did.
public enum ConsumeOutcome: String, Sendable {
    /// A new replica row was written.
    case applied
    /// The event id was in the inbox already: nothing changed.
    case duplicate
    /// A new event id for a record that was already there: nothing changed.
    case replay
}
