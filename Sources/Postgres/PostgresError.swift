/// An error from the PostgreSQL layer: a failed connection, a server error, a decoding problem.
///
/// Server errors carry only the SQLSTATE, the primary message, the detail and the constraint name
/// the server reported; never the SQL text or the bound values.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure, in the style of postgres-nio and swift-service-lifecycle.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed, connectionLost, server, decoding, poolClosed, migration
            case invalidConfiguration, transactionAborted, unsupported, poolTimeout
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A new connection could not be established (refused, authentication, timeout).
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke; the connection has been discarded.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected a statement; see ``PostgresError/sqlState``.
        public static let server = Code(.server)
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// The client was closed; no more connections are handed out.
        public static let poolClosed = Code(.poolClosed)
        /// A schema migration failed, or the database holds a schema this binary does not know.
        public static let migration = Code(.migration)
        /// The connection string or another setting is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A transaction body swallowed a failed statement; the transaction was rolled back, not committed.
        public static let transactionAborted = Code(.transactionAborted)
        /// The server answered with something this layer does not handle (for example `COPY`).
        public static let unsupported = Code(.unsupported)
        /// No pooled connection became free within ``PostgresConfiguration/acquireTimeout``.
        public static let poolTimeout = Code(.poolTimeout)

        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable message: the server's primary message, libpq's message, or ours.
    public var message: String
    /// The five-character SQLSTATE of a server error (`23505` for a unique violation).
    public var sqlState: String?
    /// The server's optional detail line.
    public var detail: String?
    /// The name of the violated constraint, when the server names one.
    public var constraint: String?

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        constraint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.constraint = constraint
    }

    /// Whether the server reported a unique violation (SQLSTATE 23505); map it to 409 at the HTTP edge.
    public var isUniqueViolation: Bool { self.sqlState == "23505" }

    /// Whether the failure is about reaching the server rather than about the statement.
    ///
    /// True for ``Code/connectionFailed``, ``Code/connectionLost`` and ``Code/poolTimeout``,
    /// SQLSTATE class 08 (connection exception) and 57P01...57P03 (administrator shutdown, crash
    /// shutdown, cannot connect now). Such failures are transient: retry with backoff.
    public var isConnectionFailure: Bool {
        if self.code == .connectionFailed || self.code == .connectionLost || self.code == .poolTimeout {
            return true
        }
        guard let sqlState = self.sqlState else {
            return false
        }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    /// Whether the same work may succeed if simply tried again later: the server was out of reach
    /// (``isConnectionFailure``) or the statement lost a race or hit a passing condition.
    ///
    /// By SQLSTATE: class 08 (connection exception), 40 (transaction rollback: serialization
    /// failure 40001, deadlock 40P01), 53 (insufficient resources: disk full 53100, out of memory
    /// 53200, too many connections 53300), 58 (system error, e.g. I/O error), 55P03 (lock not
    /// available), 55006 (object in use), 57014 (query cancelled: a statement or lock timeout),
    /// 57P01...57P05 (shutdown, cannot connect now, idle session timeout) and 25006 (read-only
    /// transaction: a standby during a failover). Anything else (a constraint, a bad value, a
    /// syntax error) fails the same way every time. Retry transient failures without limit at a
    /// capped backoff; never dead-letter on them.
    public var isTransient: Bool {
        if self.isConnectionFailure {
            return true
        }
        guard let sqlState = self.sqlState else {
            return false
        }
        switch sqlState.prefix(2) {
        case "08", "40", "53", "58":
            return true
        default:
            return Self.transientStates.contains(sqlState)
        }
    }

    /// The single SQLSTATEs outside the transient classes that are transient too.
    private static let transientStates: Set<String> = ["55P03", "55006", "57014", "57P01", "57P02", "57P03", "57P04", "57P05", "25006"]

    public var description: String {
        var text = "PostgresError(code: \(self.code), message: \(self.message)"
        if let sqlState = self.sqlState {
            text += ", sqlState: \(sqlState)"
        }
        if let detail = self.detail {
            text += ", detail: \(detail)"
        }
        if let constraint = self.constraint {
            text += ", constraint: \(constraint)"
        }
        return text + ")"
    }
}
