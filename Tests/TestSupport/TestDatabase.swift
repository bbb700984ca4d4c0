import Foundation
import Postgres
import Testing

/// Databases of their own for tests, on the shared PostgreSQL server (`TEST_POSTGRES_URL`).
public enum TestDatabase {
    /// The superuser connection from the environment, one connection at most.
    public static func adminConfiguration(sourceLocation: SourceLocation = #_sourceLocation) throws -> PostgresConfiguration {
        PostgresConfiguration(connectionString: try TestEnvironment.postgresURL(sourceLocation: sourceLocation), poolSize: 1)
    }

    /// The superuser connection for the harness's administrative statements (`CREATE`/`DROP
    /// DATABASE`, roles): ``adminConfiguration(sourceLocation:)`` without a statement timeout.
    ///
    /// On a busy disk, creating or dropping a database can wait past the 30 s that a service's
    /// statement may take; that wait says nothing about the code under test.
    public static func administrativeConfiguration(sourceLocation: SourceLocation = #_sourceLocation) throws -> PostgresConfiguration {
        var configuration = try adminConfiguration(sourceLocation: sourceLocation)
        configuration.statementTimeout = .zero
        return configuration
    }

    /// Creates a database `t_<uuid>`, applies `migrations` (when there are any), runs `body`
    /// with its configuration, and drops it afterwards whatever happens (`WITH (FORCE)` ends
    /// the connections a failed test left behind).
    public static func withTestDatabase<T: Sendable>(
        poolSize: Int = 4,
        migrations: [Migration] = [],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        let admin = try administrativeConfiguration(sourceLocation: sourceLocation)
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await execute("CREATE DATABASE \"\(name)\"", on: admin)
        // The test's own connections keep the services' statement timeout.
        var configuration = try adminConfiguration(sourceLocation: sourceLocation).withDatabase(name)
        configuration.poolSize = poolSize
        return try await withCleanUp {
            if !migrations.isEmpty {
                try await withClient(configuration) { client in
                    try await Migrator(migrations: migrations, advisoryLockKey: 42).migrate(client, logger: TestEnvironment.logger)
                }
            }
            return try await body(configuration)
        } cleanUp: {
            try await execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)", on: admin)
        }
    }

    /// A test database (see ``withTestDatabase(poolSize:migrations:sourceLocation:_:)``) and a client on it.
    public static func withTestClient<T: Sendable>(
        poolSize: Int = 4,
        migrations: [Migration] = [],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        try await withTestDatabase(poolSize: poolSize, migrations: migrations, sourceLocation: sourceLocation) { configuration in
            try await withClient(configuration, body)
        }
    }

    /// A client for `configuration`, closed after `body` whatever happens.
    public static func withClient<T: Sendable>(
        _ configuration: PostgresConfiguration,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
        return try await withCleanUp {
            try await body(client)
        } cleanUp: {
            await client.close()
        }
    }

    private static func execute(_ sql: String, on configuration: PostgresConfiguration) async throws {
        try await withClient(configuration) { client in
            try await client.withConnection { try await $0.execute(sql) }
        }
    }
}
