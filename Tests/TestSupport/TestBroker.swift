import AMQP
import Testing

extension TestEnvironment {
    /// The broker from `TEST_AMQP_URL`, with timeouts and reconnect delays short enough
    /// that a test sees a failure or a recovery within seconds.
    ///
    /// The connect timeout (which bounds the login) is the longest: while the tests run in
    /// parallel, the shared broker took over 3 s to log a client in (tests pushing tens of
    /// megabytes through it beside); a refused connection still fails at once.
    public static func amqpConfiguration(sourceLocation: SourceLocation = #_sourceLocation) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: try amqpURL(sourceLocation: sourceLocation))
        configuration.connectTimeout = .seconds(15)
        configuration.confirmTimeout = .seconds(5)
        configuration.rpcTimeout = .seconds(10)
        configuration.heartbeat = .seconds(5)
        configuration.reconnectInitialDelay = .milliseconds(50)
        configuration.reconnectMaximumDelay = .milliseconds(500)
        return configuration
    }
}

/// Connects (to `configuration`, or the test broker), runs `body` with the connection,
/// and always closes it.
public func withConnection<T>(
    _ configuration: AMQPConfiguration? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (AMQPConnection) async throws -> T
) async throws -> T {
    let configuration = try configuration ?? TestEnvironment.amqpConfiguration(sourceLocation: sourceLocation)
    let connection = try await AMQPConnection.connect(configuration, logger: TestEnvironment.logger)
    return try await withCleanUp {
        try await body(connection)
    } cleanUp: {
        await connection.close()
    }
}

/// Runs `body` with a connection to the test broker, then always deletes `queues` and
/// `exchanges` (those that exist), on a fresh connection so that a channel the test
/// closed does not prevent it.
public func withBrokerObjects<T>(
    queues: [String],
    exchanges: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (AMQPConnection) async throws -> T
) async throws -> T {
    try await withCleanUp {
        try await withConnection(sourceLocation: sourceLocation, body)
    } cleanUp: {
        try await withConnection(sourceLocation: sourceLocation) { cleanup in
            for queue in queues { try await cleanup.delete(queue: queue) }
            for exchange in exchanges { try await cleanup.delete(exchange: exchange) }
        }
    }
}

/// Declares `topology`, runs `body`, and always deletes the topology's queues and exchanges.
public func withTopology<T>(
    _ topology: AMQPTopology,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (AMQPConnection) async throws -> T
) async throws -> T {
    try await withBrokerObjects(
        queues: topology.queues.map(\.name),
        exchanges: topology.exchanges.map(\.name),
        sourceLocation: sourceLocation
    ) { connection in
        try await connection.declare(topology)
        return try await body(connection)
    }
}
