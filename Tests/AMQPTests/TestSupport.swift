import Foundation
import Logging
import Synchronization
import Testing

@testable import AMQP

/// Thrown when the test environment lacks the broker URL: integration tests fail, never skip.
struct MissingTestEnvironment: Error, CustomStringConvertible {
    var variable: String
    var description: String {
        "\(variable) is not set: start the local servers (scripts/local-servers start) and `source .run/servers.env`, or run scripts/test"
    }
}

enum TestEnvironment {
    /// The broker configuration from `TEST_AMQP_URL`, with short timeouts suited to tests.
    static func configuration() throws -> AMQPConfiguration {
        guard let url = ProcessInfo.processInfo.environment["TEST_AMQP_URL"], !url.isEmpty else {
            throw MissingTestEnvironment(variable: "TEST_AMQP_URL")
        }
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectTimeout = .seconds(3)
        configuration.confirmTimeout = .seconds(5)
        configuration.rpcTimeout = .seconds(10)
        configuration.heartbeat = .seconds(5)
        return configuration
    }

    /// `TEST_SERVERS_SCRIPT`, the script that stops and starts the shared broker.
    static func serversScript() throws -> String {
        guard let script = ProcessInfo.processInfo.environment["TEST_SERVERS_SCRIPT"], !script.isEmpty else {
            throw MissingTestEnvironment(variable: "TEST_SERVERS_SCRIPT")
        }
        return script
    }

    static let logger: Logger = {
        var logger = Logger(label: "amqp-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// A name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        "amqp-test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// Connects, runs `body` with the connection, and always closes it.
func withConnection<T>(_ configuration: AMQPConfiguration? = nil, _ body: (AMQPConnection) async throws -> T) async throws -> T {
    let connection = try await AMQPConnection.connect(configuration ?? TestEnvironment.configuration(), logger: TestEnvironment.logger)
    do {
        let result = try await body(connection)
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}

/// Declares `topology`, runs `body`, and always deletes the topology's queues and exchanges
/// afterwards (on a separate connection, so a closed channel in the test does not prevent it).
func withTopology<T>(_ topology: AMQPTopology, _ body: (AMQPConnection) async throws -> T) async throws -> T {
    func cleanUp() async throws {
        try await withConnection { cleanup in
            for queue in topology.queues { try await cleanup.delete(queue: queue.name) }
            for exchange in topology.exchanges { try await cleanup.delete(exchange: exchange.name) }
        }
    }
    do {
        let result = try await withConnection { connection in
            try await connection.declare(topology)
            return try await body(connection)
        }
        try await cleanUp()
        return result
    } catch {
        try? await cleanUp()
        throw error
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A fanout exchange bound to the given quorum queues, with unique names.
func fanoutTopology(_ label: String, queues: Int) -> AMQPTopology {
    let exchange = TestEnvironment.uniqueName("\(label).exchange")
    let queueNames = (0..<queues).map { TestEnvironment.uniqueName("\(label).queue\($0)") }
    return AMQPTopology(
        exchanges: [.init(name: exchange, kind: .fanout)],
        queues: queueNames.map { .quorum(name: $0) },
        bindings: queueNames.map { .init(queue: $0, exchange: exchange) }
    )
}

/// Collects what a consumer task received, for polling from the test.
final class Received: Sendable {
    private let items = Mutex<[AMQPDelivery]>([])

    func append(_ delivery: AMQPDelivery) { items.withLock { $0.append(delivery) } }
    var all: [AMQPDelivery] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}
