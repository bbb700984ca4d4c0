/// What consuming one event did.
public enum ConsumeOutcome: String, Sendable {
    /// A new replica row was written.
    case applied
    /// The event id was in the inbox already: nothing changed.
    case duplicate
    /// A new event id for a record that was already there: nothing changed.
    case replay
}
