import CLibPQ

/// The statements prepared on one connection, by SQL text.
///
/// The first time a connection runs a statement it prepares it (`PQprepare`, named `s1`, `s2`,
/// ...); later runs only bind and execute it (`PQexecPrepared`), so the server parses and plans
/// it once per connection instead of on every call. Protocol-level prepared statements are not
/// transactional: a rollback keeps them. They end with the session, so the cache is emptied when
/// the connection is reset. Past ``capacity`` distinct statements, new ones run unnamed
/// (`PQexecParams`), as every statement did before: a program that builds SQL text dynamically
/// cannot fill the server's memory.
///
/// `@unchecked Sendable` is safe because it is only touched inside
/// ``PostgresConnectionHandle``'s jobs, which run one at a time on the connection's thread with
/// the connection's lock held.
final class PreparedStatements: @unchecked Sendable {
    /// The most statements kept prepared on one connection.
    static let capacity = 256

    private var names: [String: String] = [:]
    private var nextNumber = 1

    /// The prepared statement's name for `sql`, preparing it first if needed; nil when the cache
    /// is full (run the statement unnamed).
    ///
    /// - Throws: the server's error for a statement it cannot prepare (a syntax error, an unknown
    ///   table): the same error running it would give.
    func name(for sql: String, parameterCount: Int, on connection: OpaquePointer) throws -> String? {
        if let name = names[sql] {
            return name
        }
        guard names.count < Self.capacity else {
            return nil
        }
        let name = "s\(nextNumber)"
        nextNumber += 1
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        _ = try PostgresConnectionHandle.consume(connection, result)
        names[sql] = name
        return name
    }

    /// Forgets `sql`'s statement after the server refused to run it as prepared (a table it
    /// reads changed its row type), so that the next call prepares it again.
    func invalidate(_ sql: String, on connection: OpaquePointer) {
        guard let name = names.removeValue(forKey: sql) else { return }
        // Outside a transaction the old statement can be dropped now; inside one (possibly
        // failed), it stays on the server under its unused name until the session ends.
        if PQtransactionStatus(connection) == PQTRANS_IDLE {
            PQclear(PQexec(connection, "DEALLOCATE \(name)"))
        }
    }

    /// Forgets every statement: the session they lived in is gone.
    func removeAll() {
        names.removeAll()
    }
}
