import Foundation
import TestSupport
import Testing

@testable import AMQP

/// `amqps://` against the TLS broker of `scripts/local-servers start --tls` (``TestTLS``):
/// traffic flows when the broker's certificate verifies against the CA and names the host;
/// any other certificate is refused during the handshake with OpenSSL's reason, quickly.
@Suite("AMQP over TLS", .timeLimit(.minutes(2)))
struct AMQPTLSTests {
    @Test(
        "publishes and consumes over amqps, the broker verified by its IP address or its DNS name",
        arguments: ["127.0.0.1", "localhost"])
    func publishesAndConsumes(host: String) async throws {
        var configuration = try tlsConfiguration()
        configuration.endpoints = configuration.endpoints.map { .init(host: host, port: $0.port) }
        let exchange = TestEnvironment.uniqueName("tls.exchange")
        let queue = TestEnvironment.uniqueName("tls.queue")
        let topology = AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout)], queues: [.quorum(name: queue)], bindings: [.init(queue: queue, exchange: exchange)])
        let count = 200
        // Bodies larger than one TLS record (16 KiB): frames span records, so reading them
        // exercises the loop's waits on a socket whose bytes OpenSSL decrypts in pieces.
        func body(_ index: Int) -> [UInt8] { Array("message \(index) ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 20_000) }
        try await withConnection(configuration) { connection in
            try await withCleanUp {
                try await connection.declare(topology)
                try await connection.publish((0..<count).map { AMQPMessage(exchange: exchange, body: body($0)) })
                #expect(try await connection.messageCount(queue: queue) == count)

                let consumer = AMQPConsumer(
                    configuration: configuration, topology: topology, queue: queue, prefetch: 100, logger: TestEnvironment.logger)
                let received = Collector<[UInt8]>()
                let task = Task {
                    for await delivery in consumer {
                        try await delivery.ack()
                        received.append(delivery.body)
                    }
                }
                let complete = await eventually(timeout: .seconds(90)) { received.count >= count }
                task.cancel()
                try await task.value
                #expect(complete, "received \(received.count) of \(count)")
                let published = Set((0..<count).map(body))
                let unknown = received.all.filter { !published.contains($0) }
                #expect(unknown.isEmpty, "every delivery is a published body, intact")
                #expect(Set(received.all).count == count, "every published body arrived")
            } cleanUp: {
                try await connection.delete(queue: queue)
                try await connection.delete(exchange: exchange)
            }
        }
    }

    @Test("the broker lists the connection with ssl true, and a client certificate's subject when one is given")
    func brokerSeesTLSAndTheClientCertificate() async throws {
        var configuration = try tlsConfiguration()
        configuration.tls?.certificateFile = try TestTLS.file("client.crt")
        configuration.tls?.keyFile = try TestTLS.file("client.key")
        try await withConnection(configuration) { connection in
            #expect(connection.isOpen)
            let output = try await TestTLS.rabbitmqctl("list_connections", "ssl", "ssl_protocol", "peer_cert_subject", "--formatter", "json")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]], "\(output)")
            let ours = rows.filter { ($0["peer_cert_subject"] as? String)?.contains("CN=guest") == true }
            #expect(!ours.isEmpty, "no connection with the client certificate among \(rows)")
            for row in ours {
                #expect(row["ssl"] as? Bool == true, "\(row)")
                #expect((row["ssl_protocol"] as? String)?.hasPrefix("tlsv1.") == true, "\(row)")
            }
        }
    }

    @Test("a CA that did not sign the broker's certificate is refused at once, with OpenSSL's reason")
    func wrongCAIsRefused() async throws {
        var configuration = try tlsConfiguration()
        configuration.tls?.caFile = try TestTLS.file("other-ca.crt")
        let error = try await connectError(configuration)
        #expect(error.code == .tlsFailed, "\(error)")
        // The broker sends its CA along with its certificate; OpenSSL finds that CA untrusted.
        #expect(error.message.contains("self-signed certificate in certificate chain"), "\(error)")
        #expect(error.message.contains("other-ca.crt"), "the message names the CA file it checked against: \(error)")
    }

    @Test("without a CA file the system's trusted CAs apply, and they do not know a private CA")
    func systemTrustStoreRefusesAPrivateCA() async throws {
        var configuration = try tlsConfiguration()
        configuration.tls?.caFile = nil
        let error = try await connectError(configuration)
        #expect(error.code == .tlsFailed, "\(error)")
        #expect(error.message.contains("system's trusted CAs"), "\(error)")
    }

    @Test("an address the broker's certificate does not carry is refused, even through a relay to the real broker")
    func wrongHostIsRefused() async throws {
        var configuration = try tlsConfiguration()
        let broker = configuration.endpoints[0]
        // 127.0.0.2 reaches this machine too, but the certificate names only localhost and 127.0.0.1.
        let relay = try TCPForwarder(listenHost: "127.0.0.2", targetHost: broker.host, targetPort: broker.port)
        defer { relay.stop() }
        configuration.endpoints = [.init(host: "127.0.0.2", port: relay.port)]
        let error = try await connectError(configuration)
        #expect(error.code == .tlsFailed, "\(error)")
        #expect(error.message.contains("IP address mismatch"), "\(error)")
        #expect(relay.accepted == 1, "the handshake did reach the broker through the relay")
    }

    @Test("a CA file that cannot be read is a configuration error naming the file")
    func unreadableCAFile() async throws {
        var configuration = try tlsConfiguration()
        configuration.tls?.caFile = "/nonexistent/ca-\(TestEnvironment.uniqueID()).crt"
        let error = try await connectError(configuration)
        #expect(error.code == .invalidConfiguration, "\(error)")
        #expect(error.message.contains(configuration.tls?.caFile ?? "?"), "\(error)")
    }

    @Test("a client key that does not belong to the certificate is a configuration error")
    func mismatchedClientKey() async throws {
        var configuration = try tlsConfiguration()
        configuration.tls?.certificateFile = try TestTLS.file("client.crt")
        configuration.tls?.keyFile = try TestTLS.file("server.key")
        let error = try await connectError(configuration)
        #expect(error.code == .invalidConfiguration, "\(error)")
        #expect(error.message.contains("client certificate"), "\(error)")
    }

    /// The TLS broker as `guest`, trusting the test CA, with short timeouts.
    private func tlsConfiguration(sourceLocation: SourceLocation = #_sourceLocation) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: try TestTLS.amqpsURL(sourceLocation: sourceLocation))
        configuration.tls?.caFile = try TestTLS.caFile(sourceLocation: sourceLocation)
        configuration.connectTimeout = .seconds(3)
        configuration.heartbeat = .seconds(5)
        configuration.reconnectInitialDelay = .milliseconds(50)
        configuration.reconnectMaximumDelay = .milliseconds(500)
        return configuration
    }

    /// The error connecting with `configuration` fails with, which must come well within the connect timeout.
    private func connectError(_ configuration: AMQPConfiguration, sourceLocation: SourceLocation = #_sourceLocation) async throws -> AMQPError {
        let started = ContinuousClock.now
        let thrown = await #expect(throws: AMQPError.self, sourceLocation: sourceLocation) {
            try await withConnection(configuration) { _ in }
        }
        let error = try #require(thrown, sourceLocation: sourceLocation)
        #expect(ContinuousClock.now - started < configuration.connectTimeout, "a refusal, not a timeout: \(error)", sourceLocation: sourceLocation)
        return error
    }
}
