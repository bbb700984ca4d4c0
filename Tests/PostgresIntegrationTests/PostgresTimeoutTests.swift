import Postgres
import TestSupport
import Testing

/// The deadlines the server enforces: a statement past its timeout, a pool with no connection free.
@Suite("PostgreSQL deadlines at the server")
struct PostgresTimeoutTests {
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
