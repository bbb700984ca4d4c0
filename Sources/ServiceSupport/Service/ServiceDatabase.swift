import Logging
import Postgres
import Replication
import Retry

/// A service's database at start-up: the pool, with the schema migrated.
public enum ServiceDatabase {
    /// Opens the pool and applies `migrations` after the shared replication tables
    /// (``ReplicationSchema/migrations``), in order, under the advisory lock.
    ///
    /// While the database refuses connections, migrating is retried with `retry`'s backoff for up to
    /// `configuration.startupWait`; after that, or on any other migration error (a changed or
    /// unknown migration), this throws and the service does not start.
    public static func connect(
        _ configuration: ServiceConfiguration.Database,
        migrations: [Migration],
        retry: Backoff,
        logger: Logger
    ) async throws -> PostgresClient {
        let database = PostgresClient(configuration: configuration.postgres, logger: logger)
        let migrator = Migrator(migrations: ReplicationSchema.migrations + migrations, advisoryLockKey: configuration.migrationLockKey)
        let deadline = ContinuousClock.now + configuration.startupWait
        var backoff = retry
        while true {
            do {
                try await migrator.migrate(database, logger: logger)
                return database
            } catch let error as PostgresError where error.isConnectionFailure && ContinuousClock.now < deadline {
                logger.warning("database unavailable, retrying migrations", metadata: ["error": "\(error)"])
                do {
                    try await backoff.sleep()
                } catch {
                    await database.close()
                    throw error
                }
            } catch {
                await database.close()
                throw error
            }
        }
    }
}
