import Metrics
import Postgres
import ServiceLifecycle

/// Publishes a ``PostgresClient``'s pool statistics as gauges, sampled every
/// ``interval`` until graceful shutdown:
///
/// | metric | meaning |
/// | --- | --- |
/// | `db_pool_connections{state="in_use"}` | connections leased to a request, relay or consumer |
/// | `db_pool_connections{state="idle"}` | open connections waiting in the pool |
/// | `db_pool_connections{state="opening"}` | connections being opened |
/// | `db_pool_waiters` | tasks waiting because every connection is in use |
/// | `db_pool_size` | the configured maximum |
///
/// Waiters above zero for long means the pool (`DATABASE_POOL_SIZE`) is the bottleneck.
public struct DatabasePoolMetrics: Service {
    private let database: PostgresClient
    private let interval: Duration
    private let poolSize: Int
    private let inUse = Gauge(label: "db_pool_connections", dimensions: [("state", "in_use")])
    private let idle = Gauge(label: "db_pool_connections", dimensions: [("state", "idle")])
    private let opening = Gauge(label: "db_pool_connections", dimensions: [("state", "opening")])
    private let waiters = Gauge(label: "db_pool_waiters")
    private let size = Gauge(label: "db_pool_size")

    /// Samples `database`'s pool every `interval`.
    public init(database: PostgresClient, interval: Duration = .milliseconds(500)) {
        self.database = database
        self.interval = interval
        self.poolSize = database.configuration.poolSize
    }

    /// Records the statistics now.
    public func record() {
        let statistics = database.statistics
        inUse.record(statistics.inUse)
        idle.record(statistics.idle)
        opening.record(statistics.opening)
        waiters.record(statistics.waiters)
        size.record(poolSize)
    }

    /// Samples until graceful shutdown or cancellation.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                record()
                try await Task.sleep(for: interval)
            }
        }
    }
}
