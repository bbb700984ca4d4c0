/// A snapshot of a ``PostgresClient``'s pool, for metrics and tests.
public struct PoolStatistics: Sendable, Hashable {
    /// Connections leased to a `withConnection` body right now.
    public var inUse: Int
    /// Open connections waiting in the pool.
    public var idle: Int
    /// Connections being opened right now.
    public var opening: Int
    /// Tasks waiting for a connection because all `poolSize` are in use.
    public var waiters: Int

    /// Connections open or being opened; never more than the pool size.
    public var total: Int { self.inUse + self.idle + self.opening }

    /// Creates a snapshot.
    public init(inUse: Int, idle: Int, opening: Int, waiters: Int) {
        self.inUse = inUse
        self.idle = idle
        self.opening = opening
        self.waiters = waiters
    }
}
