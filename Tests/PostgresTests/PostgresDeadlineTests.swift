import Postgres
import TestSupport
import Testing

/// Every wait on the database has a deadline, and the errors that passing conditions cause
/// are told apart from those that will fail again.
@Suite("PostgreSQL deadlines and transient errors")
struct PostgresDeadlineTests {
    @Test(
        "transient SQLSTATEs: connection, rollback, resources, system, lock, cancel, shutdown, read-only",
        arguments: ["08006", "40001", "40P01", "53100", "53200", "53300", "58030", "55P03", "55006", "57014", "57P01", "57P03", "25006"]
    )
    func transient(sqlState: String) {
        #expect(PostgresError(code: .server, message: "m", sqlState: sqlState).isTransient)
    }

    @Test("permanent SQLSTATEs: constraints, bad values, syntax, permissions", arguments: ["23505", "23503", "22P02", "22001", "42601", "42501"])
    func permanent(sqlState: String) {
        #expect(!PostgresError(code: .server, message: "m", sqlState: sqlState).isTransient)
    }

    @Test("lost connections and pool timeouts are transient; decoding failures are not")
    func transientCodes() {
        #expect(PostgresError(code: .connectionLost, message: "m").isTransient)
        #expect(PostgresError(code: .connectionFailed, message: "m").isTransient)
        #expect(PostgresError(code: .poolTimeout, message: "m").isTransient)
        #expect(!PostgresError(code: .decoding, message: "m").isTransient)
    }

    @Test("the deadlines reach libpq: keepalives, tcp_user_timeout, statement and idle-in-transaction timeouts")
    func deadlinesInConnectionParameters() throws {
        var configuration = PostgresConfiguration(connectionString: "postgres://u@127.0.0.1:5432/db")
        configuration.statementTimeout = .milliseconds(1500)
        configuration.idleInTransactionTimeout = .seconds(20)
        configuration.tcpUserTimeout = .seconds(9)
        let parameters = try configuration.connectionParameters()
        #expect(parameters["keepalives"] == "1")
        #expect(parameters["keepalives_idle"] == "3")
        #expect(parameters["keepalives_count"] == "3")
        #expect(parameters["tcp_user_timeout"] == "9000")
        #expect(parameters["options"] == "-c statement_timeout=1500 -c idle_in_transaction_session_timeout=20000")
    }

    @Test("a statement longer than the statement timeout is cancelled by the server (57014, transient)")
    func statementTimeout() async throws {
        try await Self.withTestClient({ $0.statementTimeout = .milliseconds(200) }) { client in
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT pg_sleep(5)") }
            #expect(error?.sqlState == "57014")
            #expect(error?.isTransient == true)
            // The connection is still good for the next statement.
            let rows = try await client.query("SELECT 1")
            #expect(rows.count == 1)
        }
    }

    @Test("a task finds every pooled connection taken: it fails with poolTimeout after the acquire timeout, not never")
    func acquireTimeout() async throws {
        try await Self.withTestClient({ $0.acquireTimeout = .milliseconds(200) }) { client in
            try await client.withConnection { _ in
                let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
                #expect(error?.code == .poolTimeout)
                #expect(error?.isTransient == true)
            }
            let rows = try await client.query("SELECT 1")
            #expect(rows.count == 1, "the pool serves again once the connection is back")
        }
    }

    /// A client with one connection on a test database of its own, its configuration changed by `configure`.
    static func withTestClient(
        _ configure: (inout PostgresConfiguration) -> Void, _ body: (PostgresClient) async throws -> Void
    ) async throws {
        try await TestDatabase.withTestDatabase(poolSize: 1) { configuration in
            var configuration = configuration
            configure(&configuration)
            try await TestDatabase.withClient(configuration, body)
        }
    }
}
