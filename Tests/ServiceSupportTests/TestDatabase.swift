import Foundation
import Logging
import Postgres
import Replication
import Testing

/// Thrown when `TEST_POSTGRES_URL` is missing: integration tests fail, never skip.
struct MissingTestEnvironment: Error, CustomStringConvertible {
    var variable: String
    var description: String {
        "\(variable) is not set: start the local servers (scripts/local-servers start) and "
            + "`eval \"$(scripts/local-servers env)\"`, or run scripts/test"
    }
}

enum TestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "service-support-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Creates a database `t_<uuid>` with the replication schema, runs `body` with a client
    /// on it, and always closes the client and drops the database `WITH (FORCE)`.
    static func withMigratedDatabase<T: Sendable>(_ body: (PostgresClient) async throws -> T) async throws -> T {
        guard let url = ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"], !url.isEmpty else {
            throw MissingTestEnvironment(variable: "TEST_POSTGRES_URL")
        }
        let admin = PostgresConfiguration(connectionString: url, poolSize: 1)
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await withClient(admin) { try await $0.withConnection { try await $0.execute("CREATE DATABASE \"\(name)\"") } }
        func drop() async throws {
            try await withClient(admin) {
                try await $0.withConnection { try await $0.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)") }
            }
        }
        var configuration = admin.withDatabase(name)
        configuration.poolSize = 4
        let value: T
        do {
            value = try await withClient(configuration) { client in
                try await Migrator(migrations: ReplicationSchema.migrations, advisoryLockKey: 42).migrate(client, logger: logger)
                return try await body(client)
            }
        } catch {
            try? await drop()
            throw error
        }
        try await drop()
        return value
    }

    /// A client for `configuration`, closed after `body` whatever happens.
    static func withClient<T: Sendable>(_ configuration: PostgresConfiguration, _ body: (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: configuration, logger: logger)
        let value: T
        do {
            value = try await body(client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        return value
    }
}
