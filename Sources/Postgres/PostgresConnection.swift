import CLibPQ
import Logging
import Synchronization

/// One database session, leased from a ``PostgresClient`` for the duration of a
/// ``PostgresClient/withConnection(_:)`` body.
///
/// Every call runs libpq on the connection's own thread, never on Swift's cooperative pool: in the
/// calling task when it already runs there (the body of ``PostgresClient/withConnection(isolation:_:)``),
/// otherwise by handing the call to that thread and waiting. Calls on one connection are
/// serialised; do not keep the connection after the body returns, since the pool hands it to the
/// next borrower.
public final class PostgresConnection: Sendable {
    /// The libpq connection; owned by the pool, which closes it.
    let handle: PostgresConnectionHandle
    /// What ``withTransaction(_:)`` has yet to send: its `BEGIN` (with the first statement) and
    /// the statements of ``queryAtCommit(_:_:)`` (with its `COMMIT`).
    private let deferred = Mutex(Deferred())

    private struct Deferred {
        /// Inside ``withTransaction(_:)``.
        var active = false
        var begin = false
        var atCommit: [(sql: String, binds: [(any PostgresEncodable)?])] = []
    }

    init(handle: PostgresConnectionHandle) {
        self.handle = handle
    }

    /// Runs one statement with bound parameters (`$1`, `$2`, ...) and returns its rows.
    ///
    /// Uses the extended protocol, so parameters are never spliced into the SQL text, and prepares
    /// each statement once per connection (see ``PreparedStatements``): pass the same SQL text
    /// with different parameters rather than building SQL. A `nil` bind is NULL. Cancelling the
    /// calling task cancels the statement on the server.
    ///
    /// - Throws: ``PostgresError`` with the server's SQLSTATE, message, detail and constraint; a
    ///   broken connection gives ``PostgresError/Code/connectionLost`` and is discarded by the pool.
    @discardableResult
    public func query(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> PostgresQueryResult {
        if self.takeBegin() {
            // The transaction's first statement: its BEGIN goes in the same round trip.
            return try await self.handle.run(cancellable: true) { connection in
                try PostgresConnectionHandle.pipeline(connection, [("BEGIN", []), (sql, binds)], statements: self.handle.preparedStatements)[1]
            }
        }
        return try await self.handle.run(cancellable: true) { connection in
            try PostgresConnectionHandle.query(connection, sql, binds, statements: self.handle.preparedStatements)
        }
    }

    /// Runs a statement of the transaction just before its `COMMIT`, in the same round trip, and
    /// discards its rows: for the last write of a transaction whose result nothing needs (an
    /// outbox row). Its error fails the transaction: ``withTransaction(_:)`` then rolls back and
    /// throws it. Outside ``withTransaction(_:)`` it runs at once.
    public func queryAtCommit(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws {
        let deferred = self.deferred.withLock { state in
            guard state.active else { return false }
            state.atCommit.append((sql, binds))
            return true
        }
        if !deferred { try await self.query(sql, binds) }
    }

    /// Asks the pool to close this connection when the body that leased it returns, instead of
    /// reusing it: for a session that reached the wrong host (a standby answering `25006`), so
    /// that the next connection runs libpq's host selection again.
    public func discardAfterUse() {
        self.handle.requestDiscard()
    }

    /// Runs one or more `;`-separated statements over the simple protocol, without parameters
    /// (migrations, `BEGIN`, `SET`). Results are checked and discarded; the first error is thrown.
    public func execute(_ sql: String) async throws {
        let statements = self.takeBegin() ? "BEGIN; " + sql : sql
        try await self.handle.run(cancellable: true) { connection in
            try PostgresConnectionHandle.execute(connection, statements)
        }
    }

    /// Runs `body` in a transaction on this connection: `BEGIN`, then `COMMIT` when it returns,
    /// `ROLLBACK` when it throws (and the error is rethrown).
    ///
    /// `BEGIN` goes with the body's first statement and `COMMIT` with the statements of
    /// ``queryAtCommit(_:_:)``, each pair in one round trip (a body that runs no statement sends
    /// neither). If the body swallowed a failed statement, the transaction cannot commit: it is
    /// rolled back and ``PostgresError/Code/transactionAborted`` is thrown. `COMMIT` and `ROLLBACK`
    /// run even when the task is cancelled.
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        self.deferred.withLock { $0 = Deferred(active: true, begin: true) }
        let value: T
        do {
            value = try await body(self)
        } catch {
            self.deferred.withLock { $0 = Deferred() }
            await self.rollbackIfNeeded()
            throw error
        }
        let (unbegun, atCommit) = self.deferred.withLock { state in
            defer { state = Deferred() }
            return (state.begin, state.atCommit)
        }
        if unbegun && atCommit.isEmpty { return value }
        if self.handle.leaseState.transaction == PQTRANS_INERROR {
            await self.rollbackIfNeeded()
            throw PostgresError(
                code: .transactionAborted,
                message: "a statement in the transaction failed and its error was not rethrown; rolled back"
            )
        }
        do {
            if atCommit.isEmpty {
                try await self.runUncancellable("COMMIT")
            } else {
                let steps = (unbegun ? [("BEGIN", [])] : []) + atCommit + [("COMMIT", [])]
                _ = try await self.handle.run(cancellable: false) { connection in
                    try PostgresConnectionHandle.pipeline(connection, steps, statements: self.handle.preparedStatements)
                }
            }
        } catch {
            await self.rollbackIfNeeded()
            throw error
        }
        return value
    }

    /// Whether a deferred `BEGIN` must go with the next statement (and clears it).
    private func takeBegin() -> Bool {
        self.deferred.withLock { state in
            defer { state.begin = false }
            return state.begin
        }
    }

    /// Rolls back an open or failed transaction; a failure marks the connection for discarding.
    func rollbackIfNeeded() async {
        let state = self.handle.leaseState
        guard !state.discard, state.transaction == PQTRANS_INTRANS || state.transaction == PQTRANS_INERROR else {
            return
        }
        do {
            try await self.runUncancellable("ROLLBACK")
        } catch {
            self.handle.logger.debug("PostgreSQL rollback failed", metadata: ["db.error": "\(error)"])
            self.handle.requestDiscard()
        }
    }

    private func runUncancellable(_ sql: String) async throws {
        try await self.handle.run(cancellable: false) { connection in
            try PostgresConnectionHandle.execute(connection, sql)
        }
    }
}
