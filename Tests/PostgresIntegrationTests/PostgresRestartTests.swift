import Foundation
import Postgres
import TestSupport
import Testing

/// Survives a restart of the shared PostgreSQL server. The test command runs suites whose name
/// ends in `RestartTests` on their own and serially, since every other test loses its server
/// for a few seconds. The server is always started again, even when the test fails.
@Suite(.serialized) struct PostgresRestartTests {
    @Test func sameClientRecoversAfterServerRestart() async throws {
        let script = try TestEnvironment.serversScript()
        try await TestDatabase.withTestClient(poolSize: 3) { client in
            _ = try await client.query("CREATE TABLE survivors (id uuid PRIMARY KEY)")
            // Three connections open and idle in the pool.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask { _ = try await client.query("SELECT pg_sleep(0.1)") }
                }
                try await group.waitForAll()
            }
            #expect(client.statistics.idle == 3)

            try await run(script: script, "stop-postgres")
            // Nothing below throws before the server is started again.
            for _ in 0..<5 {
                let error = await #expect(throws: PostgresError.self) {
                    try await client.query("INSERT INTO survivors VALUES ($1)", [UUID()])
                }
                #expect(error?.isConnectionFailure == true, "\(String(describing: error))")
            }
            #expect(client.statistics.total == 0, "broken connections must not stay in the pool")
            try await run(script: script, "start-postgres")

            let id = UUID()
            #expect(try await client.query("INSERT INTO survivors VALUES ($1)", [id]).affectedRows == 1)
            #expect(try await client.query("SELECT id FROM survivors").first?.decode(0, as: UUID.self) == id)
        }
    }

    @Test func idleConnectionsClosedByARestartAreReconnectedBeforeUse() async throws {
        let script = try TestEnvironment.serversScript()
        try await TestDatabase.withTestClient(poolSize: 2) { client in
            let before = try await client.query("SELECT pg_backend_pid()").first?.decode(0, as: Int.self)
            #expect(client.statistics.idle == 1)
            try await run(script: script, "stop-postgres")
            try await run(script: script, "start-postgres")
            // The pooled connection is dead; the first query after the restart must still succeed.
            let after = try await client.query("SELECT pg_backend_pid()").first?.decode(0, as: Int.self)
            #expect(after != nil && after != before)
        }
    }
}
