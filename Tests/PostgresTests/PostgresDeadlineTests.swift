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

    @Test("a refused connection fails with libpq's message, as a transient connection failure")
    func connectionRefusedGivesLibpqMessage() async throws {
        var configuration = PostgresConfiguration(connectionString: "postgres://postgres@127.0.0.1:1/postgres", poolSize: 2)
        configuration.connectTimeout = .seconds(2)
        try await TestDatabase.withClient(configuration) { client in
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("Connection refused") == true, "\(String(describing: error))")
            #expect(error?.isConnectionFailure == true)
            #expect(client.statistics.total == 0)
        }
    }
}
