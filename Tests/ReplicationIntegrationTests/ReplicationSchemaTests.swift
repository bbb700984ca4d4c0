import Postgres
import Replication
import TestSupport
import Testing

/// The shared tables every replicating service migrates before its own.
@Suite("Replication schema")
struct ReplicationSchemaTests {
    @Test("migrating creates the outbox, inbox, counters, idempotency, resync and epoch tables; migrating again changes nothing")
    func migrate() async throws {
        try await withTestDatabase(migrate: false) { database, _ in
            let migrator = Migrator(migrations: ReplicationSchema.migrations, advisoryLockKey: 7)
            try await migrator.migrate(database, logger: TestEnvironment.logger)
            try await migrator.migrate(database, logger: TestEnvironment.logger)
            let tables = try await database.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
            ).map { try $0.decode(0, as: String.self) }
            #expect(tables == ["consumer_counters", "idempotency_keys", "inbox", "outbox", "replication_epoch", "resync_jobs", "schema_migrations"])
            let applied = try await database.query("SELECT count(*) FROM schema_migrations")[0].decode(0, as: Int64.self)
            #expect(applied == Int64(ReplicationSchema.migrations.count))
            // The inbox accepts only the outcomes the consumer writes.
            await #expect(throws: PostgresError.self) {
                try await database.query(
                    "INSERT INTO inbox (event_id, event_type, source_sequence, outcome) VALUES (gen_random_uuid(), 't', 1, 'duplicate')"
                )
            }
        }
    }
}
