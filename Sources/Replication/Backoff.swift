/// Capped exponential backoff with jitter, for reconnecting and retrying.
///
/// The n-th delay is a random duration between half and all of
/// `min(cap, initial * 2^n)`, so clients that failed together do not retry together.
public struct Backoff: Sendable {
    /// The first delay's upper bound.
    public var initial: Duration
    /// The largest upper bound any delay can have.
    public var cap: Duration
    private var attempt = 0

    /// Creates a backoff starting at `initial` and doubling up to `cap`.
    public init(initial: Duration = .milliseconds(100), cap: Duration = .seconds(10)) {
        self.initial = initial
        self.cap = cap
    }

    /// The next delay; each call doubles the bound until it reaches `cap`.
    public mutating func next() -> Duration {
        let factor = 1 << min(attempt, 30)
        attempt += 1
        let bound = min(cap, initial * factor)
        let seconds = Double(bound.components.seconds) + Double(bound.components.attoseconds) * 1e-18
        return .seconds(Double.random(in: seconds / 2...seconds))
    }

    /// Starts over from `initial` (after a success).
    public mutating func reset() {
        attempt = 0
    }

    /// Sleeps for the next delay; throws `CancellationError` when the task is cancelled.
    public mutating func sleep() async throws {
        try await Task.sleep(for: next())
    }
}
