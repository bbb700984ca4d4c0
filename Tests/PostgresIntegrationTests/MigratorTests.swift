import Foundation
import Postgres
import TestSupport
import Testing

/// Schema migrations: ordering, idempotence, concurrency and refusal of unknown schemas.
@Suite struct MigratorTests {
    static let migrations = [
        Migration(version: 1, name: "create notes", sql: "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)"),
        Migration(
            version: 2,
            name: "log applications",
            sql: """
                CREATE TABLE IF NOT EXISTS applied_log (version int);
                INSERT INTO applied_log VALUES (2);
                ALTER TABLE notes ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
                """
        ),
    ]

    @Test func runningTwiceAppliesOnce() async throws {
        try await TestDatabase.withTestClient { client in
            let migrator = Migrator(migrations: Self.migrations.reversed(), advisoryLockKey: 42)
            try await migrator.migrate(client, logger: TestEnvironment.logger)
            try await migrator.migrate(client, logger: TestEnvironment.logger)
            let versions = try await client.query("SELECT version, name FROM schema_migrations ORDER BY version")
                .map { try $0.decode(0, as: Int.self) }
            #expect(versions == [1, 2])
            #expect(try await client.query("SELECT count(*) FROM applied_log").first?.decode(0, as: Int.self) == 1)
            _ = try await client.query("INSERT INTO notes (id, body) VALUES ($1, $2)", [1, "hello"])
        }
    }

    @Test func concurrentMigratorsOnTwoClientsApplyOnce() async throws {
        try await TestDatabase.withTestDatabase(poolSize: 2) { configuration in
            let slow =
                Self.migrations + [
                    Migration(version: 3, name: "slow", sql: "SELECT pg_sleep(0.5); INSERT INTO applied_log VALUES (3)")
                ]
            let migrator = Migrator(migrations: slow, table: "public.migrations", advisoryLockKey: 7)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await TestDatabase.withClient(configuration) { client in
                            try await migrator.migrate(client, logger: TestEnvironment.logger)
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await TestDatabase.withClient(configuration) { client in
                let log = try await client.query("SELECT version FROM applied_log ORDER BY version")
                    .map { try $0.decode(0, as: Int.self) }
                #expect(log == [2, 3])
                #expect(try await client.query("SELECT count(*) FROM migrations").first?.decode(0, as: Int.self) == 3)
                #expect(try await Self.advisoryLocks(client) == 0, "the advisory lock must be released")
            }
        }
    }

    @Test func changedChecksumIsRefused() async throws {
        try await TestDatabase.withTestClient { client in
            try await Migrator(migrations: Self.migrations, advisoryLockKey: 1).migrate(client, logger: TestEnvironment.logger)
            var edited = Self.migrations
            edited[0].sql += " -- edited"
            let error = await #expect(throws: PostgresError.self) {
                try await Migrator(migrations: edited, advisoryLockKey: 1).migrate(client, logger: TestEnvironment.logger)
            }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("checksum") == true)
            #expect(error?.message.contains("create notes") == true)
        }
    }

    @Test func unknownAppliedVersionIsRefused() async throws {
        try await TestDatabase.withTestClient { client in
            try await Migrator(migrations: Self.migrations, advisoryLockKey: 1).migrate(client, logger: TestEnvironment.logger)
            let older = Migrator(migrations: [Self.migrations[0]], advisoryLockKey: 1)
            let error = await #expect(throws: PostgresError.self) {
                try await older.migrate(client, logger: TestEnvironment.logger)
            }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("does not know") == true)
            #expect(error?.message.contains("2") == true)
        }
    }

    @Test func failingMigrationKeepsNothingAndReportsTheServerError() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let broken =
                Self.migrations + [
                    Migration(version: 3, name: "broken", sql: "CREATE TABLE half (id int); SELECT * FROM missing_table")
                ]
            let error = await #expect(throws: PostgresError.self) {
                try await Migrator(migrations: broken, advisoryLockKey: 5).migrate(client, logger: TestEnvironment.logger)
            }
            #expect(error?.code == .migration)
            #expect(error?.sqlState == "42P01")
            #expect(error?.message.contains("broken") == true)
            let versions = try await client.query("SELECT version FROM schema_migrations ORDER BY version")
                .map { try $0.decode(0, as: Int.self) }
            #expect(versions == [1, 2])
            #expect(try await client.query("SELECT to_regclass('half') IS NULL").first?.decode(0, as: Bool.self) == true)
            #expect(try await Self.advisoryLocks(client) == 0, "the advisory lock must be released")
        }
    }

    @Test(arguments: ["bad-name", "a.b.c", "x; DROP TABLE y", ""])
    func invalidTableNameIsRefused(table: String) async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let error = await #expect(throws: PostgresError.self) {
                try await Migrator(migrations: Self.migrations, table: table, advisoryLockKey: 1)
                    .migrate(client, logger: TestEnvironment.logger)
            }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test func duplicateVersionsAreRefused() async throws {
        try await TestDatabase.withTestClient(poolSize: 1) { client in
            let error = await #expect(throws: PostgresError.self) {
                try await Migrator(migrations: Self.migrations + [Self.migrations[0]], advisoryLockKey: 1)
                    .migrate(client, logger: TestEnvironment.logger)
            }
            #expect(error?.code == .migration)
        }
    }

    /// Advisory locks held in this test's database (`pg_locks` covers the whole cluster).
    static func advisoryLocks(_ client: PostgresClient) async throws -> Int? {
        try await client.query(
            """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """
        ).first?.decode(0, as: Int.self)
    }
}
