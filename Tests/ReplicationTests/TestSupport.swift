import AMQP
import Contract
import Foundation
import Logging
import Postgres
import Replication
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thrown when the test environment lacks a server URL: integration tests fail, never skip.
struct MissingTestEnvironment: Error, CustomStringConvertible {
    var variable: String
    var description: String {
        "\(variable) is not set: start the local servers (scripts/local-servers start) and "
            + "`eval \"$(scripts/local-servers env)\"`, or run scripts/test"
    }
}

/// The real PostgreSQL and RabbitMQ the test command provides.
enum TestEnvironment {
    static let logger: Logger = {
        var logger = Logger(label: "replication-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// `TEST_POSTGRES_URL` (a superuser), or a ``MissingTestEnvironment`` failure.
    static func postgresURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"], !url.isEmpty else {
            throw MissingTestEnvironment(variable: "TEST_POSTGRES_URL")
        }
        return url
    }

    /// The broker from `TEST_AMQP_URL`, with short timeouts suited to tests.
    static func amqpConfiguration() throws -> AMQPConfiguration {
        guard let url = ProcessInfo.processInfo.environment["TEST_AMQP_URL"], !url.isEmpty else {
            throw MissingTestEnvironment(variable: "TEST_AMQP_URL")
        }
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectTimeout = .seconds(3)
        configuration.confirmTimeout = .seconds(5)
        configuration.rpcTimeout = .seconds(10)
        configuration.heartbeat = .seconds(5)
        configuration.reconnectInitialDelay = .milliseconds(50)
        configuration.reconnectMaximumDelay = .milliseconds(500)
        return configuration
    }

    /// Broker names no other test uses: `t-<uuid>.customer.events`, ...
    static func uniqueNames() -> ReplicationNames {
        ReplicationNames(prefix: "t-\(UUID().uuidString.lowercased()).")
    }

    /// A port on 127.0.0.1 where nothing listens (bound once by us, then released).
    static func closedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0, "socket() failed")
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        try #require(bound, "bind() to an ephemeral port failed")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

// MARK: PostgreSQL

/// Test tables of a subscribing service: its replica and its own (source) table.
let testTableMigrations = [
    Migration(
        version: ReplicationSchema.firstServiceVersion,
        name: "test tables",
        sql: """
            CREATE TABLE replica_orders (
                id uuid PRIMARY KEY,
                customer_id uuid NOT NULL,
                amount bigint NOT NULL,
                event_id uuid NOT NULL,
                request_id text
            );
            CREATE TABLE customers (id uuid PRIMARY KEY);
            """
    )
]

/// Creates a database `t_<uuid>`, optionally applies the replication schema and the test
/// tables, runs `body` with a client on it, and always closes the client and drops the
/// database (`WITH (FORCE)` ends connections a failed test left behind).
func withTestDatabase<T: Sendable>(
    poolSize: Int = 8,
    migrate: Bool = true,
    _ body: (PostgresClient, PostgresConfiguration) async throws -> T
) async throws -> T {
    let admin = PostgresConfiguration(connectionString: try TestEnvironment.postgresURL(), poolSize: 1)
    let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    try await withClient(admin) { try await $0.withConnection { try await $0.execute("CREATE DATABASE \"\(name)\"") } }
    func drop() async throws {
        try await withClient(admin) {
            try await $0.withConnection { try await $0.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)") }
        }
    }
    var configuration = admin.withDatabase(name)
    configuration.poolSize = poolSize
    let value: T
    do {
        value = try await withClient(configuration) { client in
            if migrate {
                try await Migrator(migrations: ReplicationSchema.migrations + testTableMigrations, advisoryLockKey: 42)
                    .migrate(client, logger: TestEnvironment.logger)
            }
            return try await body(client, configuration)
        }
    } catch {
        try? await drop()
        throw error
    }
    try await drop()
    return value
}

/// A client for `configuration`, closed after `body` whatever happens.
func withClient<T: Sendable>(_ configuration: PostgresConfiguration, _ body: (PostgresClient) async throws -> T) async throws -> T {
    let client = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
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

/// Appends `count` events for `exchange` in one committed transaction; returns their ids in sequence order.
@discardableResult
func appendEvents(_ count: Int, exchange: String, to database: PostgresClient, requestId: String? = "req-test") async throws -> [UUID] {
    try await database.withTransaction { connection in
        var ids: [UUID] = []
        for index in 0..<count {
            let event = OutboxEvent(
                type: EventType.customerCreated.rawValue,
                exchange: exchange,
                data: #"{"n": \#(index), "note": "kept verbatim"}"#,
                requestId: requestId
            )
            try await Outbox.append(event, on: connection)
            ids.append(event.eventId)
        }
        return ids
    }
}

/// Rows in the outbox that are not published yet.
func pendingCount(_ database: PostgresClient) async throws -> Int64 {
    try await database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].decode(0)
}

// MARK: RabbitMQ

/// Connects, runs `body`, and always closes the connection.
func withConnection<T>(_ configuration: AMQPConfiguration? = nil, _ body: (AMQPConnection) async throws -> T) async throws -> T {
    let connection = try await AMQPConnection.connect(configuration ?? TestEnvironment.amqpConfiguration(), logger: TestEnvironment.logger)
    do {
        let result = try await body(connection)
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}

/// Runs `body` with a connection, then always deletes every exchange and queue that `names`
/// can name (and `extraQueues`), on a fresh connection so a closed channel does not prevent it.
func withBroker<T>(_ names: ReplicationNames, extraQueues: [String] = [], _ body: (AMQPConnection) async throws -> T) async throws -> T {
    func cleanUp() async throws {
        try await withConnection { cleanup in
            let queues = [names.customerEventsQueue, names.orderEventsQueue].flatMap { [$0, names.deadLetterQueue(of: $0)] } + extraQueues
            for queue in queues { try await cleanup.delete(queue: queue) }
            for exchange in [names.customerEvents, names.orderEvents, names.deadLetterExchange] {
                try await cleanup.delete(exchange: exchange)
            }
        }
    }
    do {
        let result = try await withConnection(nil, body)
        try await cleanUp()
        return result
    } catch {
        try? await cleanUp()
        throw error
    }
}

/// A durable queue bound to the fanout `exchange` (declared too), to watch what is published there.
func bindWatchQueue(_ queue: String, to exchange: String, on connection: AMQPConnection) async throws {
    try await connection.declare(
        AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout)],
            queues: [.quorum(name: queue)],
            bindings: [.init(queue: queue, exchange: exchange)]
        )
    )
}

/// Takes every ready message out of `queue` with basic.get (they are deleted with the queue).
func drainQueue(_ queue: String, on connection: AMQPConnection) async throws -> [AMQPDelivery] {
    var deliveries: [AMQPDelivery] = []
    while let delivery = try await connection.get(queue: queue) {
        deliveries.append(delivery)
    }
    return deliveries
}

// MARK: Running services

/// Runs `services` while `body` runs, then cancels them and waits until they have stopped.
func withRunning<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services {
            group.addTask { try? await service.run() }
        }
        do {
            let result = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Polls `condition` every 25 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return try await condition()
}
