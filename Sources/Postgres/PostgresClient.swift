import CLibPQ
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A bounded pool of PostgreSQL connections, run as a swift-service-lifecycle `Service`.
///
/// Connections open lazily, on first demand, whether or not ``run()`` has been called; at most
/// ``PostgresConfiguration/poolSize`` are open at once, and tasks that find them all in use wait in
/// FIFO order. Each connection owns a dedicated thread, where every libpq call on it runs (plus one
/// client thread for cancel requests), never on Swift's cooperative pool; ``withConnection(isolation:_:)``
/// runs its body with that thread as the task's executor preference, so its queries call libpq
/// without a thread hop.
///
/// A connection that comes back broken (`PQstatus` is `CONNECTION_BAD`) is closed instead of being
/// pooled, and the next acquire opens a new one; a connection that comes back inside a transaction
/// is rolled back first; an idle connection the server closed meanwhile (a restart) is reconnected
/// before it is used. So the client survives a PostgreSQL restart: calls fail with
/// ``PostgresError/isConnectionFailure`` while the server is down, and succeed again once it is up.
///
/// Call ``close()`` (or let ``run()`` return) before the client is released.
public final class PostgresClient: Service, Sendable {
    /// The configuration the client was created with.
    public let configuration: PostgresConfiguration
    /// Where connection events go; per-query logging is left to callers.
    let logger: Logger
    /// Sends cancel requests (`PQcancel` connects to the server and waits): one thread, since the
    /// connections' own threads are busy in the statement being cancelled.
    let cancelThreadPool: NIOThreadPool
    /// `configuration.poolSize`, at least 1.
    let poolSize: Int
    /// The pool's bookkeeping; never held across an `await` or a libpq call.
    let state = Mutex(PoolState())

    /// Creates a client; opens no connection yet.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.poolSize = max(1, configuration.poolSize)
        self.cancelThreadPool = NIOThreadPool(numberOfThreads: 1)
        self.cancelThreadPool.start()
    }

    deinit {
        assert(self.state.withLock { $0.phase } != .running, "PostgresClient released without close()")
    }

    /// Waits for graceful shutdown or cancellation, then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.close()
    }

    /// Leases a connection for `body`, waiting (FIFO) while all are in use, and returns it to the
    /// pool afterwards: rolled back if `body` left a transaction open, closed if it broke.
    ///
    /// `body` runs with the connection's own thread as its task executor preference: its
    /// nonisolated code, and child tasks it creates, run on that thread (one at a time), and the
    /// connection's methods call libpq there directly. Actor-isolated code in `body` stays on its
    /// actor, and its calls hop to the connection's thread and back.
    ///
    /// - Throws: what `body` throws; ``PostgresError/Code/connectionFailed`` when no connection
    ///   could be opened; ``PostgresError/Code/poolClosed`` after ``close()``; `CancellationError`
    ///   when the task is cancelled while waiting.
    public func withConnection<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await self.acquire()
        let value: T
        do {
            value = try await withTaskExecutorPreference(connection.handle.executor, isolation: isolation) {
                try await body(connection)
            }
        } catch {
            await self.release(connection)
            throw error
        }
        await self.release(connection)
        return value
    }

    /// Runs `body` in a transaction on one leased connection: `BEGIN`; `COMMIT` when it returns;
    /// `ROLLBACK` when it throws, and the error is rethrown.
    ///
    /// See ``PostgresConnection/withTransaction(_:)``.
    public func withTransaction<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await self.withConnection { connection in
            try await connection.withTransaction(body)
        }
    }

    /// Runs one statement with bound parameters on a leased connection (autocommit).
    @discardableResult
    public func query(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> PostgresQueryResult {
        try await self.withConnection { connection in
            try await connection.query(sql, binds)
        }
    }

    /// Closes the pool: waiting tasks fail with ``PostgresError/Code/poolClosed``, idle connections
    /// close now, leased ones when their body returns (each stopping its thread); then the cancel
    /// thread stops. Idempotent.
    public func close() async {
        let (isFirst, idle, waiters) = self.state.withLock { state in
            let isFirst = state.phase == .running
            state.phase = .closing
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            return (isFirst, state.idle, Array(state.waiters))
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: Self.poolClosedError)
        }
        for connection in idle {
            await connection.handle.close()
        }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let drained = self.state.withLock { state in
                guard state.leased == 0 && state.opening == 0 else {
                    state.closeWaiters.append(continuation)
                    return false
                }
                return true
            }
            if drained {
                continuation.resume()
            }
        }
        guard isFirst else { return }
        do {
            try await self.cancelThreadPool.shutdownGracefully()
        } catch {
            self.logger.debug("PostgreSQL thread pool shutdown failed", metadata: ["db.error": "\(error)"])
        }
        self.state.withLock { $0.phase = .closed }
        self.logger.debug("PostgreSQL client closed")
    }

    /// How many connections are leased, idle and being opened, and how many tasks wait.
    public var statistics: PoolStatistics {
        self.state.withLock { state in
            PoolStatistics(
                inUse: state.leased,
                idle: state.idle.count,
                opening: state.opening,
                waiters: state.waiters.count
            )
        }
    }

    /// What every call throws once ``close()`` has begun.
    static let poolClosedError = PostgresError(code: .poolClosed, message: "the PostgreSQL client is closed")
}
