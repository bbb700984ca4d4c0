import Foundation
import TestSupport
import Testing

@testable import AMQP

/// A broker that stops answering without closing the socket (hung process, silent network):
/// the connection must notice by itself and never leave a caller waiting.
@Suite(.timeLimit(.minutes(1)))
struct AMQPDeadPeerTests {
    /// Connects through a fresh proxy, runs `body`, and always closes both.
    func withProxiedConnection(
        heartbeat: Duration, confirmTimeout: Duration = .seconds(5), _ body: (AMQPConnection, FreezableProxy, AMQPConfiguration) async throws -> Void
    ) async throws {
        let direct = try TestEnvironment.amqpConfiguration()
        let proxy = try FreezableProxy(targetHost: direct.endpoints[0].host, targetPort: direct.endpoints[0].port)
        defer { proxy.stop() }
        var configuration = direct
        configuration.endpoints = [.init(host: "127.0.0.1", port: proxy.port)]
        configuration.heartbeat = heartbeat
        configuration.confirmTimeout = confirmTimeout
        try await withConnection(configuration) { connection in
            try await body(connection, proxy, configuration)
        }
    }

    @Test func missedHeartbeatsCloseTheConnection() async throws {
        try await withProxiedConnection(heartbeat: .seconds(1)) { connection, proxy, _ in
            #expect(connection.isOpen)
            proxy.freeze()
            let started = ContinuousClock.now
            let reason = await connection.waitUntilClosed()
            let elapsed = ContinuousClock.now - started
            #expect(reason?.code == .connectionClosed)
            #expect(reason?.message.contains("heartbeat") == true, "\(String(describing: reason))")
            // rabbitmq-c declares the peer dead after two silent heartbeat intervals.
            #expect(elapsed < .seconds(5), "took \(elapsed)")
            #expect(!connection.isOpen)
        }
    }

    @Test func publishToAHungBrokerFailsWithinTheConfirmTimeout() async throws {
        let topology = fanoutTopology("hung", queues: 1)
        try await withTopology(topology) { _ in
            // Heartbeats off, so only the confirm timeout can end the wait.
            try await withProxiedConnection(heartbeat: .zero, confirmTimeout: .seconds(1)) { connection, proxy, configuration in
                try await connection.publish(AMQPMessage(exchange: topology.exchanges[0].name, body: [1]))
                proxy.freeze()
                let started = ContinuousClock.now
                let error = await #expect(throws: AMQPError.self) {
                    try await connection.publish((0..<10).map { _ in AMQPMessage(exchange: topology.exchanges[0].name, body: [2]) })
                }
                let elapsed = ContinuousClock.now - started
                #expect(error?.code == .timeout)
                #expect(elapsed < configuration.confirmTimeout + .seconds(2), "took \(elapsed)")
                #expect(!connection.isOpen)
            }
        }
    }
}
