import Foundation
import Logging
import Postgres
import Synchronization
import Testing

/// Access to the real PostgreSQL server the test command provides (`TEST_POSTGRES_URL`).
enum TestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// The superuser URL from the environment; records a failure (never a skip) when it is absent.
    static func adminConfiguration(sourceLocation: SourceLocation = #_sourceLocation) throws -> PostgresConfiguration {
        let url = try #require(
            ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 },
            "TEST_POSTGRES_URL is not set: run `scripts/local-servers start` and `source .run/servers.env`",
            sourceLocation: sourceLocation
        )
        return PostgresConfiguration(connectionString: url, poolSize: 1)
    }

    /// Creates a database `t_<uuid>` for `body`, and drops it afterwards whatever happens
    /// (`WITH (FORCE)` terminates connections a failed test left behind).
    static func withTestDatabase<T: Sendable>(
        poolSize: Int = 4,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        let admin = try self.adminConfiguration(sourceLocation: sourceLocation)
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await self.withClient(admin) { client in
            try await client.withConnection { try await $0.execute("CREATE DATABASE \"\(name)\"") }
        }
        var configuration = admin.withDatabase(name)
        configuration.poolSize = poolSize
        let value: T
        do {
            value = try await body(configuration)
        } catch {
            try? await self.drop(name, admin: admin)
            throw error
        }
        try await self.drop(name, admin: admin)
        return value
    }

    private static func drop(_ name: String, admin: PostgresConfiguration) async throws {
        try await self.withClient(admin) { client in
            try await client.withConnection { try await $0.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)") }
        }
    }

    /// A client for `configuration` that is closed after `body`, whatever happens.
    static func withClient<T: Sendable>(
        _ configuration: PostgresConfiguration,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: configuration, logger: self.logger)
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

    /// A test database and a client on it.
    static func withTestClient<T: Sendable>(
        poolSize: Int = 4,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        try await self.withTestDatabase(poolSize: poolSize, sourceLocation: sourceLocation) { configuration in
            try await self.withClient(configuration, body)
        }
    }
}

/// A value shared between test tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    var value: Value { self.mutex.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) {
        self.mutex.withLock { body(&$0) }
    }
}

/// Polls `condition` until it holds; fails the test instead of hanging after `timeout`.
func waitUntil(
    timeout: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}
