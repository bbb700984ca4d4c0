import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

/// The pool, queries, transactions and errors against the real server.
@Suite struct PostgresClientTests {
    @Test func everyTypeRoundTripsThroughTheServer() async throws {
        try await TestDatabase.withTestClient { client in
            let id = UUID()
            let date = Date(timeIntervalSince1970: 1_795_284_000.123456)
            let ids = [UUID(), UUID()]
            let row = try #require(
                try await client.query(
                    """
                    SELECT $1::uuid AS id, $2::text AS name, $3::int8 AS big, $4::int4 AS small, $5::int8 AS plain,
                           $6::bool AS flag, $7::float8 AS ratio, $8::timestamptz AS at, $9::int8[] AS numbers,
                           $10::uuid[] AS ids, $11::text[] AS names, $12::text AS missing
                    """,
                    [id, "zoë \"quoted\"", Int64.max, Int32.min, 42, true, 0.25, date, [Int64(1), 2], ids, ["a,b", "c\"d"], nil]
                ).first
            )
            #expect(try row.decode("id", as: UUID.self) == id)
            #expect(try row.decode("name", as: String.self) == "zoë \"quoted\"")
            #expect(try row.decode("big", as: Int64.self) == .max)
            #expect(try row.decode("small", as: Int32.self) == .min)
            #expect(try row.decode("plain", as: Int.self) == 42)
            #expect(try row.decode("flag", as: Bool.self) == true)
            #expect(try row.decode("ratio", as: Double.self) == 0.25)
            #expect(abs(try row.decode("at", as: Date.self).timeIntervalSince(date)) < 0.000_001)
            #expect(try row.decode("numbers", as: [Int64].self) == [1, 2])
            #expect(try row.decode("ids", as: [UUID].self) == ids)
            #expect(try row.decode("names", as: [String].self) == ["a,b", "c\"d"])
            #expect(try row.decode("missing", as: String?.self) == nil)
            #expect(try row.decode(1, as: String?.self) == "zoë \"quoted\"")
            #expect { try row.decode("missing", as: String.self) } throws: { error in
                guard let error = error as? PostgresError else { return false }
                return error.code == .decoding && error.message.contains("missing")
            }
            #expect { try row.decode("nope", as: String.self) } throws: { ($0 as? PostgresError)?.code == .decoding }
        }
    }

    @Test func dateDecodesInAnySessionTimeZone() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let date = Date(timeIntervalSince1970: 1_795_284_000.5)
            let decoded = try await client.withConnection { connection in
                try await connection.execute("SET TIME ZONE 'Asia/Kolkata'")
                return try await connection.query("SELECT $1::timestamptz", [date]).first?.decode(0, as: Date.self)
            }
            #expect(decoded == date)
        }
    }

    @Test func anyWithArrayParameterAndAffectedRows() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text)") }
            let inserted = try await client.query(
                "INSERT INTO items SELECT n, 'item ' || n FROM generate_series(1, 10) AS n"
            )
            #expect(inserted.affectedRows == 10)
            let rows = try await client.query("SELECT name FROM items WHERE id = ANY($1) ORDER BY id", [[Int64(2), 4, 99]])
            let names = try rows.map { try $0.decode(0, as: String.self) }
            #expect(names == ["item 2", "item 4"])
            #expect(rows.affectedRows == 2)
            #expect(rows.columnNames == ["name"])
            #expect(try await client.query("DELETE FROM items WHERE id > $1", [5]).affectedRows == 5)
        }
    }

    @Test func unnestInsertsManyRowsInOneStatement() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE rows (id uuid PRIMARY KEY, note text, at timestamptz)") }
            let ids = [UUID(), UUID(), UUID()]
            let notes: [String?] = ["a \"quoted\" note", nil, "NULL"]
            let at = Date(timeIntervalSince1970: 1_795_000_000.123)
            let inserted = try await client.query(
                "INSERT INTO rows SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) RETURNING id",
                [ids, notes, [at, at, at]]
            )
            #expect(inserted.count == 3)
            let rows = try await client.query("SELECT id, note, at FROM rows ORDER BY note NULLS FIRST")
            let readIDs = try rows.map { try $0.decode(0, as: UUID.self) }
            #expect(readIDs == [ids[1], ids[2], ids[0]])
            let readNotes = try rows.map { try $0.decode(1, as: String?.self) }
            #expect(readNotes == [nil, "NULL", "a \"quoted\" note"])
            let milliseconds = try rows.map { (try $0.decode(2, as: Date.self).timeIntervalSince1970 * 1000).rounded() }
            #expect(milliseconds == [1_795_000_000_123, 1_795_000_000_123, 1_795_000_000_123])
        }
    }

    @Test func statementsArePreparedOncePerConnectionAndSurviveRollback() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let select = "SELECT $1::int + 1"
            for value in 1...3 {
                #expect(try await client.query(select, [value])[0].decode(0, as: Int.self) == value + 1)
            }
            await #expect(throws: PostgresError.self) {
                try await client.withTransaction { connection in
                    #expect(try await connection.query(select, [10])[0].decode(0, as: Int.self) == 11)
                    try await connection.query("SELECT 1/0")
                }
            }
            #expect(try await client.query(select, [20])[0].decode(0, as: Int.self) == 21, "the statement outlived the rollback")
            let prepared = try await client.query("SELECT statement FROM pg_prepared_statements ORDER BY name")
            let statements = try prepared.map { try $0.decode(0, as: String.self) }
            let preparedCount = statements.filter { $0 == select }.count
            #expect(preparedCount == 1, "\(statements)")
            #expect(statements.contains("SELECT 1/0"), "a statement that fails when run is still prepared once")
        }
    }

    @Test func aStatementThatCannotBePreparedThrowsAndIsNotKept() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            for _ in 0..<2 {
                let error = try await #require(throws: PostgresError.self) { try await client.query("SELEC 1") }
                #expect(error.sqlState == "42601")
            }
            #expect(
                try await client.query("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELEC 1'")[0].decode(0, as: Int64.self) == 0)
            #expect(try await client.query("SELECT 2")[0].decode(0, as: Int.self) == 2)
        }
    }

    @Test func aStatementWhoseTableChangedIsPreparedAgain() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE shapes (id int); INSERT INTO shapes VALUES (1)") }
            let select = "SELECT * FROM shapes"
            #expect(try await client.query(select).columnNames == ["id"])
            try await client.withConnection { try await $0.execute("ALTER TABLE shapes ADD COLUMN name text") }
            // The server refuses the old plan once; the next call prepares the statement again.
            let error = await #expect(throws: PostgresError.self) { try await client.query(select) }
            if let error {
                #expect(error.sqlState == "0A000", "\(error)")
            }
            #expect(try await client.query(select).columnNames == ["id", "name"])
        }
    }

    @Test func twoHundredConcurrentTasksShareFourConnections() async throws {
        try await TestDatabase.withTestDatabase(poolSize: 4) { configuration in
            // 200 tasks queue for 4 connections: on a busy machine the last waits longer than the default bound.
            var configuration = configuration
            configuration.acquireTimeout = .seconds(120)
            try await TestDatabase.withClient(configuration) { client in
                let database = try #require(configuration.database)
                let mostOpen = Locked(0)
                let mostSessions = Locked(0)
                let sum = try await withThrowingTaskGroup(of: Int.self) { group in
                    for task in 0..<200 {
                        group.addTask {
                            let row = try #require(
                                try await client.query(
                                    "SELECT $1::int8, (SELECT count(*) FROM pg_stat_activity WHERE datname = $2), pg_sleep(0.002)",
                                    [task, database]
                                ).first
                            )
                            let sessions = try row.decode(1, as: Int.self)
                            mostSessions.update { $0 = max($0, sessions) }
                            mostOpen.update { $0 = max($0, client.statistics.total) }
                            return try row.decode(0, as: Int.self)
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(sum == (0..<200).reduce(0, +))
                #expect(mostOpen.value <= 4)
                #expect(mostSessions.value <= 4)
                #expect(mostSessions.value >= 2, "the tasks should have run in parallel")
                let statistics = client.statistics
                #expect(statistics.inUse == 0 && statistics.waiters == 0 && statistics.idle <= 4)
            }
        }
    }

    @Test func throwingTransactionLeavesNoRows() async throws {
        struct Abort: Error {}
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE notes (id uuid PRIMARY KEY)") }
            await #expect(throws: Abort.self) {
                try await client.withTransaction { connection in
                    _ = try await connection.query("INSERT INTO notes VALUES ($1)", [UUID()])
                    _ = try await connection.query("INSERT INTO notes VALUES ($1)", [UUID()])
                    throw Abort()
                }
            }
            #expect(try await client.query("SELECT count(*) FROM notes").first?.decode(0, as: Int.self) == 0)
            let committed = try await client.withTransaction { connection in
                try await connection.query("INSERT INTO notes VALUES ($1)", [UUID()]).affectedRows
            }
            #expect(committed == 1)
            #expect(try await client.query("SELECT count(*) FROM notes").first?.decode(0, as: Int.self) == 1)
        }
    }

    @Test func swallowedErrorInTransactionIsNotCommitted() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection { try await $0.execute("CREATE TABLE notes (id int PRIMARY KEY)") }
            await #expect {
                try await client.withTransaction { connection in
                    _ = try await connection.query("INSERT INTO notes VALUES (1)")
                    _ = try? await connection.query("INSERT INTO notes VALUES (1)")
                }
            } throws: { ($0 as? PostgresError)?.code == .transactionAborted }
            #expect(try await client.query("SELECT count(*) FROM notes").first?.decode(0, as: Int.self) == 0)
        }
    }

    @Test func uniqueViolationNamesTheConstraint() async throws {
        try await TestDatabase.withTestClient { client in
            try await client.withConnection {
                try await $0.execute("CREATE TABLE customers (id uuid PRIMARY KEY, email text CONSTRAINT customers_email_key UNIQUE)")
            }
            _ = try await client.query("INSERT INTO customers VALUES ($1, $2)", [UUID(), "a@example.com"])
            let error = await #expect(throws: PostgresError.self) {
                try await client.query("INSERT INTO customers VALUES ($1, $2)", [UUID(), "a@example.com"])
            }
            #expect(error?.isUniqueViolation == true)
            #expect(error?.code == .server)
            #expect(error?.constraint == "customers_email_key")
            #expect(error?.detail?.contains("already exists") == true)
            #expect(error?.isConnectionFailure == false)
        }
    }

    @Test func failedQueryDoesNotPoisonThePooledConnection() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let pid = try await client.query("SELECT pg_backend_pid()").first?.decode(0, as: Int.self)
            let syntax = await #expect(throws: PostgresError.self) { try await client.query("SELEC 1") }
            #expect(syntax?.sqlState == "42601")
            #expect(syntax?.code == .server)
            // Left inside a failed transaction: the pool rolls it back instead of handing it on.
            await #expect(throws: PostgresError.self) {
                try await client.withConnection { connection in
                    try await connection.execute("BEGIN")
                    _ = try await connection.query("SELECT 1 / 0")
                }
            }
            // Left inside an open transaction without an error.
            try await client.withConnection { try await $0.execute("BEGIN; CREATE TABLE leftover (id int)") }
            #expect(try await client.query("SELECT $1::int + 1", [41]).first?.decode(0, as: Int.self) == 42)
            #expect(try await client.query("SELECT to_regclass('leftover') IS NULL").first?.decode(0, as: Bool.self) == true)
            let samePid = try await client.query("SELECT pg_backend_pid()").first?.decode(0, as: Int.self)
            #expect(samePid == pid, "the connection should have been reused, not replaced")
        }
    }

    @Test func executeRunsSeveralStatementsAndReportsTheFirstError() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            try await client.withConnection { connection in
                try await connection.execute("CREATE TABLE a (id int); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2)")
                let error = await #expect(throws: PostgresError.self) {
                    try await connection.execute("INSERT INTO a VALUES (3); INSERT INTO missing VALUES (1); INSERT INTO a VALUES (4)")
                }
                #expect(error?.sqlState == "42P01")
                #expect(try await connection.query("SELECT count(*) FROM a").first?.decode(0, as: Int.self) == 2)
            }
        }
    }

    @Test func cancellingATaskCancelsItsQuery() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let task = Task { try await client.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            try await expectCancellation(of: task, client: client)
        }
    }

    @Test func waitersAreServedInArrivalOrderAndClosedPoolRefuses() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await client.withConnection { _ in
                    for await _ in release { break }
                }
            }
            try await waitUntil { client.statistics.inUse == 1 }
            let order = Locked<[Int]>([])
            var waiters: [Task<Void, any Error>] = []
            for waiter in 0..<3 {
                waiters.append(Task { try await client.withConnection { _ in order.update { $0.append(waiter) } } })
                try await waitUntil { client.statistics.waiters == waiter + 1 }
            }
            #expect(client.statistics == PoolStatistics(inUse: 1, idle: 0, opening: 0, waiters: 3))
            releaseSignal.yield()
            try await holder.value
            for waiter in waiters {
                try await waiter.value
            }
            #expect(order.value == [0, 1, 2])
            #expect(client.statistics.total == 1)
            await client.close()
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
            #expect(error?.code == .poolClosed)
        }
    }
}
