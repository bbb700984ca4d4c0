import CLibPQ
import Logging

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
        try await self.handle.run(cancellable: true) { connection in
            try PostgresConnectionHandle.query(connection, sql, binds, statements: self.handle.preparedStatements)
        }
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
        try await self.handle.run(cancellable: true) { connection in
            try PostgresConnectionHandle.execute(connection, sql)
        }
    }

    /// Runs `body` in a transaction on this connection: `BEGIN`, then `COMMIT` when it returns,
    /// `ROLLBACK` when it throws (and the error is rethrown).
    ///
    /// If the body swallowed a failed statement, the transaction cannot commit: it is rolled back
    /// and ``PostgresError/Code/transactionAborted`` is thrown. `COMMIT` and `ROLLBACK` run even when
    /// the task is cancelled.
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await self.runUncancellable("BEGIN")
        let value: T
        do {
            value = try await body(self)
        } catch {
            await self.rollbackIfNeeded()
            throw error
        }
        if self.handle.leaseState.transaction == PQTRANS_INERROR {
            await self.rollbackIfNeeded()
            throw PostgresError(
                code: .transactionAborted,
                message: "a statement in the transaction failed and its error was not rethrown; rolled back"
            )
        }
        do {
            try await self.runUncancellable("COMMIT")
        } catch {
            await self.rollbackIfNeeded()
            throw error
        }
        return value
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
