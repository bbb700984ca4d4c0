import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Postgres

/// Where libpq runs: on each connection's own thread, directly from a `withConnection` body, and by
/// a hop from anywhere else.
@Suite struct PostgresConnectionThreadTests {
    @Test func bodyAndItsQueriesRunOnTheConnectionsThread() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let kept = try await client.withConnection { connection in
                #expect(connection.handle.executor.isCurrent, "the body should run on the connection's thread")
                _ = try await connection.query("SELECT $1::int", [1])
                try await connection.execute("SELECT 1")
                #expect(connection.handle.executor.isCurrent, "queries should not move the body off the thread")
                async let child = connection.handle.executor.isCurrent
                #expect(await child, "child tasks inherit the executor preference")
                return connection
            }
            #expect(!kept.handle.executor.isCurrent, "outside the body the task is back on its own executor")
            try await client.withTransaction { connection in
                #expect(connection === kept, "the pooled connection and its thread are reused")
                #expect(connection.handle.executor.isCurrent)
                _ = try await connection.query("SELECT 1")
            }
        }
    }

    @Test func actorIsolatedBodyStaysOnItsActorAndHopsForQueries() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let value = try await Self.queryOnTheMainActor(client)
            #expect(value == 42)
        }
    }

    @MainActor
    private static func queryOnTheMainActor(_ client: PostgresClient) async throws -> Int? {
        try await client.withConnection { connection in
            MainActor.assertIsolated()
            #expect(!connection.handle.executor.isCurrent)
            let value = try await connection.query("SELECT $1::int + 1", [41]).first?.decode(0, as: Int.self)
            MainActor.assertIsolated()
            return value
        }
    }

    @Test func connectionUsedFromATaskWithoutThePreferenceStillWorks() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let value = try await client.withConnection { connection in
                try await Task.detached {
                    #expect(!connection.handle.executor.isCurrent)
                    return try await connection.query("SELECT 7").first?.decode(0, as: Int.self)
                }.value
            }
            #expect(value == 7)
        }
    }

    @Test func cancellingTheBodysTaskCancelsTheStatementOnTheConnectionsThread() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let started = Locked(false)
            let task = Task {
                try await client.withConnection { connection in
                    started.update { $0 = true }
                    _ = try await connection.query("SELECT pg_sleep(30)")
                }
            }
            try await waitUntil { started.value }
            try await Task.sleep(for: .milliseconds(300))
            try await expectCancellation(of: task, client: client)
        }
    }

    @Test func aConnectionKeptPastCloseFailsInsteadOfHanging() async throws {
        try await TestDatabase.withTestDatabase(poolSize: 1) { configuration in
            let client = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
            let kept = try await client.withConnection { $0 }
            await client.close()
            await #expect(throws: PostgresError.self) { try await kept.query("SELECT 1") }
        }
    }
}
