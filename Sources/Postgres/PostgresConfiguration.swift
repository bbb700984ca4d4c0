import CLibPQ

/// How to reach a PostgreSQL server and how large a pool to keep.
///
/// The connection string is handed to libpq unchanged, so everything libpq understands works:
/// a `postgres://user:password@host:port/database?sslmode=disable` URL or a
/// `host=... port=... dbname=...` conninfo string, plus the `PG*` environment variables for
/// whatever the string leaves out.
public struct PostgresConfiguration: Sendable {
    /// A `postgres://` URL or a `key=value` conninfo string, passed to libpq.
    public var connectionString: String
    /// The most connections the pool opens at once.
    public var poolSize: Int = 10
    /// How long establishing one connection may take (libpq `connect_timeout`, whole seconds,
    /// at least 2). A `connect_timeout` inside the connection string wins over this value.
    public var connectTimeout: Duration = .seconds(5)
    /// Reported to the server as `application_name` (visible in `pg_stat_activity`); overrides the
    /// connection string's when set.
    public var applicationName: String?
    /// Connects to this database instead of the one named in the connection string, when set.
    public var database: String?
    /// How long a task waits for a pooled connection when all are in use before it fails with
    /// ``PostgresError/Code/poolTimeout`` (a transient error: at the HTTP edge a 503).
    public var acquireTimeout: Duration = .seconds(30)
    /// The server cancels a statement that runs longer (`statement_timeout`, SQLSTATE 57014);
    /// zero turns the bound off.
    public var statementTimeout: Duration = .seconds(30)
    /// The server ends a session that sits idle inside a transaction this long
    /// (`idle_in_transaction_session_timeout`); zero turns the bound off.
    public var idleInTransactionTimeout: Duration = .seconds(60)
    /// How long sent data may stay unacknowledged by the server's TCP stack before the
    /// connection counts as dead (libpq `tcp_user_timeout`, with TCP keepalives probing an idle
    /// connection after the same time). Bounds every wait on a half-open connection: a server
    /// host that vanished, a cable pulled, a failover behind a virtual address.
    public var tcpUserTimeout: Duration = .seconds(15)

    /// Creates a configuration for `connectionString` with a pool of `poolSize` connections.
    public init(connectionString: String, poolSize: Int = 10) {
        self.connectionString = connectionString
        self.poolSize = poolSize
    }

    /// The same configuration pointed at another database on the same server.
    public func withDatabase(_ database: String) -> PostgresConfiguration {
        var copy = self
        copy.database = database
        return copy
    }

    /// The keyword/value pairs given to `PQconnectdbParams`, in order; later pairs win.
    ///
    /// The connection string is the first `dbname` (libpq expands it); settings that must not be
    /// overridden by it come after it.
    var libpqParameters: [(keyword: String, value: String)] {
        let keepaliveSeconds = max(1, Self.wholeSeconds(self.tcpUserTimeout) / 3)
        var parameters: [(keyword: String, value: String)] = [
            ("connect_timeout", String(max(2, Self.wholeSeconds(self.connectTimeout)))),
            ("keepalives", "1"),
            ("keepalives_idle", String(keepaliveSeconds)),
            ("keepalives_interval", String(keepaliveSeconds)),
            ("keepalives_count", "3"),
            ("tcp_user_timeout", String(Self.milliseconds(self.tcpUserTimeout))),
            (
                "options",
                "-c statement_timeout=\(Self.milliseconds(self.statementTimeout))"
                    + " -c idle_in_transaction_session_timeout=\(Self.milliseconds(self.idleInTransactionTimeout))"
            ),
            ("dbname", self.connectionString),
            ("client_encoding", "UTF8"),
        ]
        if let applicationName = self.applicationName {
            parameters.append(("application_name", applicationName))
        }
        if let database = self.database {
            parameters.append(("dbname", database))
        }
        return parameters
    }

    /// A duration in whole seconds, rounded up.
    private static func wholeSeconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return attoseconds > 0 ? seconds + 1 : seconds
    }

    /// A duration in whole milliseconds, rounded up; never negative.
    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let remainder = attoseconds / 1_000_000_000_000_000
        let rounded = attoseconds % 1_000_000_000_000_000 > 0 ? remainder + 1 : remainder
        return max(0, seconds * 1000 + rounded)
    }

    /// The settings libpq will connect with, as parsed from the connection string and this
    /// configuration's overrides; the password is left out. Needs no server.
    ///
    /// - Throws: ``PostgresError/Code/invalidConfiguration`` with libpq's message when the
    ///   connection string cannot be parsed.
    public func connectionParameters() throws -> [String: String] {
        var result: [String: String] = [:]
        for (keyword, value) in self.libpqParameters {
            if keyword == "dbname" && result["dbname.expanded"] == nil {
                for (parsedKey, parsedValue) in try Self.parse(value) {
                    result[parsedKey] = parsedValue
                }
                result["dbname.expanded"] = "yes"
            } else {
                result[keyword] = value
            }
        }
        result["dbname.expanded"] = nil
        result["password"] = nil
        return result
    }

    /// Parses a URL or conninfo string with `PQconninfoParse`, returning only the keys it sets.
    private static func parse(_ connectionString: String) throws -> [(String, String)] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            var message = "cannot parse the connection string"
            if let errorMessage {
                message = String(cString: errorMessage).trimmingTrailingWhitespace()
                PQfreemem(errorMessage)
            }
            throw PostgresError(code: .invalidConfiguration, message: message)
        }
        defer { PQconninfoFree(options) }
        var parsed: [(String, String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parsed.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        return parsed
    }
}

extension String {
    /// libpq messages end in a newline; logs and errors want them without.
    func trimmingTrailingWhitespace() -> String {
        var view = Substring(self)
        while let last = view.last, last.isWhitespace {
            view.removeLast()
        }
        return String(view)
    }
}
