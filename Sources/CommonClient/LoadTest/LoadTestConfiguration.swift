import Foundation

/// What a ``LoadTest`` does: how many creates, how many at once, how fast, and
/// how long it waits for the replicas to converge.
public struct LoadTestConfiguration: Sendable {
    /// How the progress line is shown while the load runs.
    public enum Progress: Sendable, Equatable {
        /// No progress output (tests).
        case none
        /// One line on stderr, redrawn in place (stderr is a terminal).
        case live
        /// A plain line on stderr every `interval` (stderr is a file or a pipe).
        case lines(interval: Duration)
    }

    /// Create requests in all (customers plus orders).
    public var count: Int = 1000
    /// Requests in flight at once.
    public var concurrency: Int = 16
    /// Target requests per second over all workers; nil sends as fast as the services answer.
    public var rate: Double?
    /// The share of requests that create an order (0...1); the rest create customers.
    /// An order goes to a customer created earlier in the run, picked at random.
    public var orderRatio: Double = 0.5
    /// How long to wait, after the last request, for every record to reach the peer's replica.
    public var convergenceTimeout: Duration = .seconds(60)
    /// How long an order may keep getting 422 unknown-customer (its customer not replicated
    /// yet) before that counts as an error.
    public var unknownCustomerRetryLimit: Duration = .seconds(10)
    /// Progress output.
    public var progress: Progress = .none
    /// Tags the emails of this run's customers (`lt-<runID>-<n>@load.example`), so runs never collide.
    public var runID: String = String(UUID().uuidString.lowercased().prefix(8))

    /// A configuration with the defaults (1000 requests, concurrency 16, half of them orders).
    public init(count: Int = 1000, concurrency: Int = 16, rate: Double? = nil, orderRatio: Double = 0.5) {
        self.count = count
        self.concurrency = concurrency
        self.rate = rate
        self.orderRatio = orderRatio
    }

    /// Whether request `index` should create an order (when a customer exists to take it):
    /// spreads the orders evenly through the run, `orderRatio` of them in every stretch.
    func isOrderSlot(_ index: Int) -> Bool {
        guard orderRatio > 0 else { return false }
        guard orderRatio < 1 else { return true }
        return (Double(index + 1) * orderRatio).rounded(.down) > (Double(index) * orderRatio).rounded(.down)
    }
}
