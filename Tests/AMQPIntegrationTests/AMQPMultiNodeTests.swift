import Foundation
import Synchronization
import TestSupport
import Testing

@testable import AMQP

/// `AMQP_URL` with several nodes: connecting to the first that answers, and moving to the next
/// node when the connected one goes. The "nodes" are ``TCPForwarder``s in front of the one test
/// broker, so that a test can kill a node without stopping the broker that other tests use.
@Suite(.timeLimit(.minutes(2)))
struct AMQPMultiNodeTests {
    /// The test broker's configuration with `count` forwarders in front of it as its endpoints;
    /// runs `body` and always stops the forwarders.
    func withNodes<T>(_ count: Int, _ body: (AMQPConfiguration, [TCPForwarder]) async throws -> T) async throws -> T {
        let direct = try TestEnvironment.amqpConfiguration()
        let broker = direct.endpoints[0]
        let nodes = try (0..<count).map { _ in try TCPForwarder(targetHost: broker.host, targetPort: broker.port) }
        defer { for node in nodes { node.stop() } }
        var configuration = direct
        configuration.endpoints = nodes.map { .init(host: "127.0.0.1", port: $0.port) }
        return try await body(configuration, nodes)
    }

    /// Messages with the ids `prefix-<index>` for `indices`.
    func messages(_ exchange: String, _ prefix: String, _ indices: Range<Int>) -> [AMQPMessage] {
        indices.map { AMQPMessage(exchange: exchange, body: Array("\($0)".utf8), properties: AMQPProperties(messageID: "\(prefix)-\($0)")) }
    }

    // MARK: Connecting

    @Test("AMQP_URL's first node is a closed port, its second the broker: connection and publisher use the second")
    func connectsToTheFirstNodeThatAnswers() async throws {
        let url = try TestEnvironment.amqpURL()
        var configuration = try TestEnvironment.amqpConfiguration()
        let broker = configuration.endpoints[0]
        let closedPort = try freePort()
        let closedURL = url.replacingOccurrences(of: "@\(broker.host):\(broker.port)/", with: "@127.0.0.1:\(closedPort)/")
        try #require(closedURL != url, "TEST_AMQP_URL \(AMQPConfiguration.redacted(url)) is not of the form amqp://user:pass@host:port/vhost")
        configuration.endpoints = try AMQPConfiguration(url: "\(closedURL) , \(url)").endpoints
        #expect(configuration.endpoints == [.init(host: "127.0.0.1", port: closedPort), broker])

        try await withConnection(configuration) { connection in
            #expect(connection.endpointIndex == 1)
            #expect(connection.endpoint == broker)
            #expect(connection.endpointDescription.hasPrefix("\(broker)"))
        }

        let topology = fanoutTopology("first-answers", queues: 1)
        try await withTopology(topology) { connection in
            let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: TestEnvironment.logger)
            try await withRunning([publisher]) {
                try await publisher.publish(messages(topology.exchanges[0].name, "m", 0..<3))
            }
            #expect(try await connection.messageCount(queue: topology.queues[0].name) == 3)
        }
    }

    @Test("when no node answers, the error is the last node's kind and names every node")
    func noNodeAnswers() async throws {
        var configuration = try TestEnvironment.amqpConfiguration()
        let ports = [try freePort(), try freePort()]
        configuration.endpoints = ports.map { .init(host: "127.0.0.1", port: $0) }
        let error = await #expect(throws: AMQPError.self) {
            try await withConnection(configuration) { _ in }
        }
        #expect(error?.code == .connectionRefused)
        #expect(error?.message.contains("none of the 2 broker nodes answered") == true, "\(String(describing: error))")
        for port in ports {
            #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(String(describing: error))")
        }
    }

    // MARK: Losing the node

    @Test("a node dropping its connections sends publisher and consumer to the NEXT node, round-robin, wrapping around")
    func reconnectsRoundRobin() async throws {
        try await withNodes(3) { configuration, nodes in
            let topology = fanoutTopology("round-robin", queues: 1)
            try await withTopology(topology) { _ in
                let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: TestEnvironment.logger)
                let consumer = AMQPConsumer(
                    configuration: configuration, topology: topology, queue: topology.queues[0].name, prefetch: 10, logger: TestEnvironment.logger)
                let consuming = Task {
                    for await delivery in consumer { try? await delivery.ack() }
                }
                defer { consuming.cancel() }
                try await withRunning([publisher]) {
                    // Both start on the first node; each drop moves both to the next, even though
                    // the dropped node goes on answering.
                    try await waitUntil { nodes.map(\.accepted) == [2, 0, 0] && nodes[0].openConnections == 2 }
                    nodes[0].dropConnections()
                    try await waitUntil { nodes.map(\.accepted) == [2, 2, 0] && nodes[1].openConnections == 2 }
                    nodes[1].dropConnections()
                    try await waitUntil { nodes.map(\.accepted) == [2, 2, 2] && nodes[2].openConnections == 2 }
                    nodes[2].dropConnections()
                    try await waitUntil { nodes.map(\.accepted) == [4, 2, 2] && nodes[0].openConnections == 2 }
                    try await publisher.publish(messages(topology.exchanges[0].name, "m", 0..<1))
                }
            }
        }
    }

    @Test("a publish awaiting its confirms when its node dies fails with the connection; it is never reported published")
    func outstandingConfirmsFailWithTheNode() async throws {
        try await withNodes(1) { configuration, nodes in
            let topology = fanoutTopology("outstanding", queues: 1)
            try await withTopology(topology) { _ in
                try await withConnection(configuration) { connection in
                    let publishing = Task { try await connection.publish(messages(topology.exchanges[0].name, "m", 0..<20_000)) }
                    try await Task.sleep(for: .milliseconds(100))
                    nodes[0].stop()
                    let error = await #expect(throws: AMQPError.self) { try await publishing.value }
                    #expect(error?.code == .connectionClosed, "\(String(describing: error))")
                    #expect(!connection.isOpen)
                }
            }
        }
    }

    @Test("the node of a publisher (with confirms) and a consumer dies mid-stream: both resume through the other node; no message is lost")
    func failsOverToTheOtherNodeWhilePublishing() async throws {
        try await withNodes(2) { configuration, nodes in
            let topology = fanoutTopology("failover", queues: 1)
            let exchange = topology.exchanges[0].name
            try await withTopology(topology) { _ in
                let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: TestEnvironment.logger)
                let connected = Collector<Bool>()
                let consumer = AMQPConsumer(
                    configuration: configuration, topology: topology, queue: topology.queues[0].name, prefetch: 50, logger: TestEnvironment.logger
                ) { connected.append($0) }
                let received = Locked(Set<String>())
                let consuming = Task {
                    for await delivery in consumer {
                        // An ack can fail when the node goes right now; the broker redelivers the message.
                        if (try? await delivery.ack()) != nil, let id = delivery.properties.messageID {
                            received.update { $0.insert(id) }
                        }
                    }
                }
                defer { consuming.cancel() }

                try await withRunning([publisher]) {
                    try await waitUntil { nodes[0].openConnections == 2 }
                    let killed = Locked(false)
                    let confirmedBatches = Locked(0)
                    // Like the outbox relay: a batch that failed is published again until it is confirmed.
                    let publishing = Task {
                        var retries = 0
                        var batch = 0
                        var batchesAfterKill = 0
                        while batchesAfterKill < 20 {
                            let wasKilled = killed.value
                            while true {
                                do {
                                    try await publisher.publish(messages(exchange, "m", batch * 50..<(batch + 1) * 50))
                                    break
                                } catch {
                                    retries += 1
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            batch += 1
                            confirmedBatches.update { $0 += 1 }
                            if wasKilled { batchesAfterKill += 1 }
                        }
                        return (batches: batch, retries: retries)
                    }
                    try await waitUntil(timeout: .seconds(60)) { confirmedBatches.value >= 20 }
                    nodes[0].stop()
                    killed.update { $0 = true }
                    let (batches, retries) = try await publishing.value
                    let published = Set((0..<batches * 50).map { "m-\($0)" })

                    #expect(nodes[0].openConnections == 0)
                    #expect(nodes[1].accepted == 2, "the publisher and the consumer moved to the other node")
                    try await waitUntil(timeout: .seconds(30)) { received.value.isSuperset(of: published) }
                    #expect(connected.all == [true, false, true], "the consumer lost its connection once and resumed")
                    #expect(publisher.isConnected)
                    TestEnvironment.logger.info("failover test", metadata: ["batches": "\(batches)", "retries": "\(retries)"])
                }
            }
        }
    }
}
