/// Capped exponential backoff with jitter, for reconnecting and retrying.
///
/// The delay after `n` failures is a random duration between half and all of
/// `min(cap, initial × 2^(n-1))`, so clients that failed together do not retry together.
/// Use it statelessly with ``delay(afterFailures:)`` (the AMQP reconnect loops count
/// their own failures), or statefully with ``next()``, ``reset()`` and ``sleep()``.
public struct Backoff: Sendable {
    /// The first delay's upper bound.
    public var initial: Duration
    /// The largest upper bound any delay can have.
    public var cap: Duration
    private var failures = 0

    /// Creates a backoff starting at `initial` and doubling up to `cap`.
    public init(initial: Duration = .milliseconds(100), cap: Duration = .seconds(2)) {
        self.initial = initial
        self.cap = cap
    }

    /// The delay before the next attempt after `failures` consecutive failures; zero for none.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let bound = min(cap, initial * (1 << min(failures - 1, 30)))
        let seconds = Double(bound.components.seconds) + Double(bound.components.attoseconds) * 1e-18
        return .seconds(Double.random(in: seconds / 2...seconds))
    }

    /// The next delay; each call doubles the bound until it reaches `cap`.
    public mutating func next() -> Duration {
        failures += 1
        return delay(afterFailures: failures)
    }

    /// Starts over from `initial` (after a success).
    public mutating func reset() {
        failures = 0
    }

    /// Sleeps for the next delay; throws `CancellationError` when the task is cancelled.
    public mutating func sleep() async throws {
        try await Task.sleep(for: next())
    }
}
