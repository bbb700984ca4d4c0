import Foundation
import Postgres
import TestSupport
import Testing

/// A transaction's BEGIN travels with its first statement, and the statements of
/// `queryAtCommit` with its COMMIT (libpq pipeline mode): the same outcomes as one statement
/// a round trip, on success and on every kind of failure.
@Suite struct TransactionPipelineTests {
    @Test("a failing first statement rolls back the transaction it began, and the connection serves the next one")
    func firstStatementFails() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)") }
            var failure: PostgresError?
            do {
                try await client.withTransaction { connection in
                    _ = try await connection.query("INSERT INTO notes VALUES ($1, $2)", [1, nil as String?])
                }
            } catch let error as PostgresError {
                failure = error
            }
            #expect(failure?.sqlState == "23502", "the insert's own error (not-null violation), not the pipeline's")
            let inserted = try await client.withTransaction { connection in
                try await connection.query("INSERT INTO notes VALUES ($1, $2)", [2, "kept"]).affectedRows
            }
            #expect(inserted == 1)
            let count = try await client.query("SELECT count(*) FROM notes").first?.decode(0, as: Int.self)
            #expect(count == 1)
        }
    }

    @Test("a statement at commit that fails rolls back the whole transaction and throws its error")
    func atCommitFails() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE notes (id int PRIMARY KEY)") }
            try await client.withTransaction { connection in
                try await connection.query("INSERT INTO notes VALUES (1)")
            }
            var failure: PostgresError?
            do {
                try await client.withTransaction { connection in
                    try await connection.query("INSERT INTO notes VALUES (2)")
                    try await connection.queryAtCommit("INSERT INTO notes VALUES ($1)", [1])
                }
            } catch let error as PostgresError {
                failure = error
            }
            #expect(failure?.sqlState == "23505")
            let ids = try await client.query("SELECT id FROM notes ORDER BY id").map { try $0.decode(0, as: Int.self) }
            #expect(ids == [1], "the transaction's first insert rolled back with it")
            // The connection left pipeline mode and its failed transaction: it runs the next one.
            try await client.withTransaction { connection in
                try await connection.query("INSERT INTO notes VALUES (3)")
                try await connection.queryAtCommit("INSERT INTO notes VALUES ($1)", [4])
            }
            let after = try await client.query("SELECT id FROM notes ORDER BY id").map { try $0.decode(0, as: Int.self) }
            #expect(after == [1, 3, 4])
        }
    }

    @Test("statements at commit alone, a body with no statement, and queryAtCommit outside a transaction")
    func edges() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE notes (id int PRIMARY KEY)") }
            try await client.withTransaction { connection in
                try await connection.queryAtCommit("INSERT INTO notes VALUES ($1)", [1])
                try await connection.queryAtCommit("INSERT INTO notes VALUES ($1)", [2])
            }
            let nothing = try await client.withTransaction { _ in 42 }
            #expect(nothing == 42)
            try await client.withConnection { connection in
                try await connection.queryAtCommit("INSERT INTO notes VALUES ($1)", [3])
            }
            // A transaction opened by a simple-protocol statement first (SET LOCAL) holds it.
            let local = try await client.withTransaction { connection in
                try await connection.execute("SET LOCAL statement_timeout = 1234")
                return try await connection.query("SHOW statement_timeout").first?.decode(0, as: String.self)
            }
            #expect(local == "1234ms")
            let ids = try await client.query("SELECT id FROM notes ORDER BY id").map { try $0.decode(0, as: Int.self) }
            #expect(ids == [1, 2, 3])
        }
    }

    @Test("a cancelled transaction's deferred BEGIN is never sent: the pooled connection stays idle and usable")
    func cancelledBeforeItsFirstStatement() async throws {
        try await TestDatabase.withTestClient { client in
            let task = Task {
                try await client.withTransaction { connection in
                    try await Task.sleep(for: .seconds(30))
                    return try await connection.query("SELECT 1").count
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let cancelled = await task.result
            #expect((try? cancelled.get()) == nil)
            let one = try await client.query("SELECT 1").first?.decode(0, as: Int.self)
            #expect(one == 1)
        }
    }
}
