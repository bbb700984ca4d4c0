import Foundation
import Postgres
import Testing

/// Survives a restart of the shared PostgreSQL server. The test command runs suites whose name
/// ends in `RestartTests` on their own and serially, since every other test loses its server
/// for a few seconds. The server is always started again, even when the test fails.
@Suite(.serialized) struct PostgresRestartTests {
    @Test func sameClientRecoversAfterServerRestart() async throws {
        let script = try #require(
            ProcessInfo.processInfo.environment["TEST_SERVERS_SCRIPT"].flatMap { $0.isEmpty ? nil : $0 },
            "TEST_SERVERS_SCRIPT is not set: `source .run/servers.env` (it names scripts/local-servers)"
        )
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

            try await Self.run(script, "stop-postgres")
            // Nothing below throws before the server is started again.
            for _ in 0..<5 {
                let error = await #expect(throws: PostgresError.self) {
                    try await client.query("INSERT INTO survivors VALUES ($1)", [UUID()])
                }
                #expect(error?.isConnectionFailure == true, "\(String(describing: error))")
            }
            #expect(client.statistics.total == 0, "broken connections must not stay in the pool")
            try await Self.run(script, "start-postgres")

            let id = UUID()
            #expect(try await client.query("INSERT INTO survivors VALUES ($1)", [id]).affectedRows == 1)
            #expect(try await client.query("SELECT id FROM survivors").first?.decode(0, as: UUID.self) == id)
        }
    }

    @Test func idleConnectionsClosedByARestartAreReconnectedBeforeUse() async throws {
        let script = try #require(ProcessInfo.processInfo.environment["TEST_SERVERS_SCRIPT"])
        try await TestDatabase.withTestClient(poolSize: 2) { client in
            let before = try await client.query("SELECT pg_backend_pid()").first?.decode(0, as: Int.self)
            #expect(client.statistics.idle == 1)
            try await Self.run(script, "stop-postgres")
            try await Self.run(script, "start-postgres")
            // The pooled connection is dead; the first query after the restart must still succeed.
            let after = try await client.query("SELECT pg_backend_pid()").first?.decode(0, as: Int.self)
            #expect(after != nil && after != before)
        }
    }

    /// Runs `scripts/local-servers <command>` and waits for it without blocking a cooperative thread.
    ///
    /// Foundation's `Process` learns that a child exited when a socket it gave the child is closed;
    /// `start-postgres` leaves the postmaster running with every inherited descriptor, which would
    /// keep that socket open (and the wait hanging) for as long as the server runs. So the script
    /// runs under a shell that first closes every descriptor above stderr.
    static func run(_ script: String, _ command: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            "-c",
            #"for fd in $(ls /proc/$$/fd); do if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done; exec "$@""#,
            "local-servers", script, command,
        ]
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        withExtendedLifetime(process) {}
        #expect(status == 0, "\(script) \(command) exited with \(status)")
    }
}
