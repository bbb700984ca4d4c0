/// Capped exponential backoff with jitter for reconnect attempts.
struct AMQPBackoff: Sendable {
    var initial: Duration
    var maximum: Duration

    init(_ configuration: AMQPConfiguration) {
        initial = configuration.reconnectInitialDelay
        maximum = configuration.reconnectMaximumDelay
    }

    /// The delay before attempt number `failures + 1`: `initial × 2^(failures-1)`, capped, then
    /// scaled by a random factor in 0.5...1 so that many clients do not reconnect in lockstep.
    func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let exponent = min(failures - 1, 30)
        let uncapped = initial.seconds * Double(1 << exponent)
        let capped = min(uncapped, maximum.seconds)
        return .milliseconds(Int(capped * Double.random(in: 0.5...1.0) * 1000))
    }
}
