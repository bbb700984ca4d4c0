import CLibPQ
import Logging
import NIOCore

/// The pool's bookkeeping, guarded by the client's mutex. Every change that frees capacity hands
/// it to the first waiter, so waiting is first-in, first-out.
struct PoolState {
    /// Running, closing (no new leases; waiting for leased connections), closed (threads stopped).
    enum Phase: Sendable {
        case running, closing, closed
    }

    /// What a waiting task is woken with: a connection, or the right to open one.
    enum Lease: Sendable {
        case connection(PostgresConnection)
        case open
    }

    /// A task suspended in `acquire`, woken in arrival order.
    struct Waiter: Sendable {
        var id: Int
        var continuation: UnsafeContinuation<Lease, any Error>
    }

    /// Whether the pool still hands out connections.
    var phase = Phase.running
    /// Open connections nobody leases; the last returned is reused first (it is warm).
    var idle: [PostgresConnection] = []
    /// Connections inside a `withConnection` body.
    var leased = 0
    /// Slots reserved by tasks that are opening a connection.
    var opening = 0
    /// Tasks waiting for a connection, oldest first.
    var waiters = CircularBuffer<Waiter>()
    /// Identifies waiters, so that a cancelled one can be removed.
    var nextWaiterID = 0
    /// `close()` calls waiting for the last leased connection to come back.
    var closeWaiters: [UnsafeContinuation<Void, Never>] = []
    /// The last failure to open a connection, and until when a new attempt fails with it at once
    /// (so that during an outage requests fail fast instead of each waiting for a connect timeout).
    var connectFailure: (error: any Error, until: ContinuousClock.Instant)?

    /// Takes an idle connection or a slot to open one, if there is either.
    mutating func leaseNow(poolSize: Int) -> Lease? {
        if let connection = self.idle.popLast() {
            self.leased += 1
            return .connection(connection)
        }
        if self.leased + self.opening < poolSize {
            self.opening += 1
            return .open
        }
        return nil
    }

    /// A connection slot became free: the first waiter may open a connection in it.
    mutating func slotFreed() -> Waiter? {
        guard self.phase == .running, let waiter = self.waiters.popFirst() else { return nil }
        self.opening += 1
        return waiter
    }

    /// The `close()` calls to wake once no connection is leased or being opened.
    mutating func drainedCloseWaiters() -> [UnsafeContinuation<Void, Never>] {
        guard self.phase != .running, self.leased == 0, self.opening == 0 else { return [] }
        defer { self.closeWaiters.removeAll() }
        return self.closeWaiters
    }
}

extension PostgresClient {
    /// Leases a connection: idle, newly opened, or handed over by a releasing task.
    func acquire() async throws -> PostgresConnection {
        enum Outcome {
            case leased(PoolState.Lease)
            case wait
            case closed
        }
        let outcome: Outcome = self.state.withLock { state in
            guard state.phase == .running else { return .closed }
            return state.leaseNow(poolSize: self.poolSize).map(Outcome.leased) ?? .wait
        }
        let lease: PoolState.Lease
        switch outcome {
        case .closed:
            throw Self.poolClosedError
        case .leased(let granted):
            lease = granted
        case .wait:
            lease = try await self.waitForLease()
        }
        switch lease {
        case .connection(let connection):
            return connection
        case .open:
            let recentFailure: (any Error)? = self.state.withLock { state in
                guard let failure = state.connectFailure, ContinuousClock.now < failure.until else { return nil }
                return failure.error
            }
            if let recentFailure {
                self.slotClosed(wasLeased: false)
                throw recentFailure
            }
            return try await self.openLeasedConnection()
        }
    }

    /// How long after a failed connect new connects fail at once with the same error: as long as
    /// the attempt took, up to a second. A refused connect (the server is down, the port closed)
    /// is retried at once; one that hung until its timeout (a host that does not answer) makes the
    /// requests behind it fail fast instead of each waiting for the timeout again.
    private func connectFailureHold(after attempt: Duration) -> Duration {
        min(.seconds(1), attempt)
    }

    private func waitForLease() async throws -> PoolState.Lease {
        let id = self.state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        // The deadline: a waiter still queued when it passes fails with `poolTimeout`.
        let timeout = Task { [acquireTimeout = self.configuration.acquireTimeout] in
            try await Task.sleep(for: acquireTimeout)
            self.removeWaiter(
                id,
                failing: PostgresError(
                    code: .poolTimeout,
                    message: "no database connection became free within \(acquireTimeout) (all \(self.poolSize) in use)"
                )
            )
        }
        defer { timeout.cancel() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<PoolState.Lease, any Error>) in
                let outcome: Result<PoolState.Lease, any Error>? = self.state.withLock { state in
                    guard state.phase == .running else { return .failure(Self.poolClosedError) }
                    guard !Task.isCancelled else { return .failure(CancellationError()) }
                    if let lease = state.leaseNow(poolSize: self.poolSize) {
                        return .success(lease)
                    }
                    state.waiters.append(PoolState.Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome {
                    continuation.resume(with: outcome)
                }
            }
        } onCancel: {
            self.removeWaiter(id, failing: CancellationError())
        }
    }

    /// Fails the waiter `id` with `error` if it is still waiting.
    private func removeWaiter(_ id: Int, failing error: any Error) {
        let waiter = self.state.withLock { state -> PoolState.Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Opens a connection in a slot already counted in `opening`, and leases it.
    private func openLeasedConnection() async throws -> PostgresConnection {
        let handle: PostgresConnectionHandle
        let started = ContinuousClock.now
        do {
            handle = try await PostgresConnectionHandle.connect(
                configuration: self.configuration,
                cancelThreadPool: self.cancelThreadPool,
                logger: self.logger
            )
        } catch {
            self.logger.debug("PostgreSQL connection failed", metadata: ["db.error": "\(error)"])
            let now = ContinuousClock.now
            self.state.withLock { $0.connectFailure = (error, now + self.connectFailureHold(after: now - started)) }
            self.slotClosed(wasLeased: false)
            throw error
        }
        let connection = PostgresConnection(handle: handle)
        let accepted = self.state.withLock { state in
            state.connectFailure = nil
            guard state.phase == .running else { return false }
            state.opening -= 1
            state.leased += 1
            return true
        }
        guard accepted else {
            await handle.close()
            self.slotClosed(wasLeased: false)
            throw Self.poolClosedError
        }
        self.logger.debug("PostgreSQL connection opened", metadata: ["db.pool.size": "\(self.poolSize)"])
        return connection
    }

    /// Returns a leased connection: rolled back if a transaction is open, closed if it is broken,
    /// otherwise handed to the first waiter or kept idle.
    func release(_ connection: PostgresConnection) async {
        var leaseState = connection.handle.leaseState
        if !leaseState.discard && leaseState.transaction != PQTRANS_IDLE {
            await connection.rollbackIfNeeded()
            leaseState = connection.handle.leaseState
        }
        guard !leaseState.discard && leaseState.transaction == PQTRANS_IDLE else {
            self.logger.notice("discarding broken PostgreSQL connection")
            await connection.handle.close()
            self.slotClosed(wasLeased: true)
            return
        }
        connection.handle.markIdle()
        enum Action {
            case handOver(PoolState.Waiter)
            case pooled
            case close
        }
        let action: Action = self.state.withLock { state in
            guard state.phase == .running else { return .close }
            if let waiter = state.waiters.popFirst() {
                return .handOver(waiter)
            }
            state.leased -= 1
            state.idle.append(connection)
            return .pooled
        }
        switch action {
        case .handOver(let waiter):
            waiter.continuation.resume(returning: .connection(connection))
        case .pooled:
            break
        case .close:
            await connection.handle.close()
            self.slotClosed(wasLeased: true)
        }
    }

    /// A connection (leased or being opened) is gone: wake the first waiter to open a new one, or
    /// the `close()` calls once nothing is left.
    private func slotClosed(wasLeased: Bool) {
        let (waiter, closeWaiters) = self.state.withLock { state in
            if wasLeased {
                state.leased -= 1
            } else {
                state.opening -= 1
            }
            return (state.slotFreed(), state.drainedCloseWaiters())
        }
        waiter?.continuation.resume(returning: .open)
        for closeWaiter in closeWaiters {
            closeWaiter.resume()
        }
    }
}
