/// A delivered event and the change its handler prepared from it.
public struct PreparedEvent<Change: Sendable>: Sendable {
    /// The event (its id and request id go into the replica row).
    public var event: IncomingEvent
    /// The checked record.
    public var change: Change
}
