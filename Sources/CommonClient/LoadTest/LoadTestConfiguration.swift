import Foundation

/// What a ``LoadTest`` does: how many requests of which kinds, how many at once, how
/// fast, and how long it waits for the replicas to converge.
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

    /// Requests in all (creates plus changes).
    public var count: Int = 1000
    /// Requests in flight at once.
    public var concurrency: Int = 16
    /// Target requests per second over all workers; nil sends as fast as the services answer.
    public var rate: Double?
    /// The share of the creates that create an order (0...1); the rest create customers.
    /// An order goes to a customer created earlier in the run (and not deleted), picked at random.
    public var orderRatio: Double = 0.5
    /// The share of all requests that change a customer created earlier in the run (0...1): a
    /// new credit limit, and every fourth time a new email too.
    public var updateRatio: Double = 0.1
    /// The share of all requests that delete a customer created earlier in the run (0...1);
    /// each at most once, and nothing is sent for it afterwards.
    public var deleteRatio: Double = 0.02
    /// The share of all requests that cancel an order created earlier in the run (0...1); each at most once.
    public var cancelRatio: Double = 0.05
    /// How long to wait, after the last request, for every record to reach the peer's replica.
    public var convergenceTimeout: Duration = .seconds(60)
    /// How long an order may keep getting 422 unknown-customer (its customer not replicated
    /// yet) before that counts as an error.
    public var unknownCustomerRetryLimit: Duration = .seconds(10)
    /// Reads of the peer's replica in flight at once that measure the lag of changes (see ``ChangeLagProbe``).
    public var lagProbes: Int = 2
    /// Progress output.
    public var progress: Progress = .none
    /// Tags the emails of this run's customers (`lt-<runID>-<n>@load.example`), so runs never collide.
    public var runID: String = String(UUID().uuidString.lowercased().prefix(8))

    /// A configuration with the defaults (1000 requests, concurrency 16; of all requests 10 %
    /// updates, 2 % deletes and 5 % cancels, the rest creates, half of them orders).
    public init(
        count: Int = 1000, concurrency: Int = 16, rate: Double? = nil, orderRatio: Double = 0.5,
        updateRatio: Double = 0.1, deleteRatio: Double = 0.02, cancelRatio: Double = 0.05
    ) {
        self.count = count
        self.concurrency = concurrency
        self.rate = rate
        self.orderRatio = orderRatio
        self.updateRatio = updateRatio
        self.deleteRatio = deleteRatio
        self.cancelRatio = cancelRatio
    }

    /// Each operation's share of all requests: the changes as configured, the creates what
    /// is left, split by ``orderRatio``.
    var shares: [(operation: LoadTestOperation, share: Double)] {
        let creates = max(0, 1 - updateRatio - deleteRatio - cancelRatio)
        return [
            (.updateCustomer, updateRatio), (.deleteCustomer, deleteRatio), (.cancelOrder, cancelRatio),
            (.createOrder, creates * orderRatio), (.createCustomer, creates * (1 - orderRatio)),
        ]
    }

    /// The operation of request `index` (the load test sends a create instead when there is
    /// nothing yet to change). Each operation is spread evenly through the run, its share in
    /// every stretch: request `index` takes the share that `index × φ mod 1` falls in (a
    /// golden-ratio sequence, as even as a sequence gets).
    func operation(at index: Int) -> LoadTestOperation {
        let position = (Double(index) * 0.618_033_988_749_894_9).truncatingRemainder(dividingBy: 1)
        var bound = 0.0
        for (operation, share) in shares where share > 0 {
            bound += share
            if position < bound { return operation }
        }
        return shares.last { $0.share > 0 }?.operation ?? .createCustomer
    }
}
