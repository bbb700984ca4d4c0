import Foundation
import TestSupport
import Testing

@testable import AMQP

@Suite(.timeLimit(.minutes(2)))
struct AMQPConnectionTests {
    // MARK: Connect errors

    @Test func refusedPortIsConnectionRefused() async throws {
        var configuration = try TestEnvironment.amqpConfiguration()
        let port = try freePort()
        configuration.endpoints = [.init(host: "127.0.0.1", port: port)]
        await expectConnectFailure(configuration) { $0.code == .connectionRefused && $0.message.contains("\(port)") }
    }

    @Test func wrongPasswordIsAuthenticationFailed() async throws {
        var configuration = try TestEnvironment.amqpConfiguration()
        configuration.password = "wrong-\(UUID().uuidString)"
        await expectConnectFailure(configuration) {
            $0.code == .authenticationFailed && $0.replyCode == 403 && $0.message.contains("ACCESS_REFUSED")
        }
    }

    @Test func unknownVirtualHostIsAccessRefused() async throws {
        var configuration = try TestEnvironment.amqpConfiguration()
        configuration.virtualHost = "no-such-vhost-\(UUID().uuidString.prefix(8))"
        await expectConnectFailure(configuration) { $0.code == .accessRefused && $0.message.contains(configuration.virtualHost) }
    }

    @Test func redeclaringAQueueWithOtherArgumentsIsChannelClosed406() async throws {
        let topology = fanoutTopology("redeclare", queues: 1)
        let queue = topology.queues[0].name
        try await withTopology(topology) { connection in
            let error = await #expect(throws: AMQPError.self) {
                try await connection.declare(AMQPTopology(queues: [.init(name: queue)]))
            }
            #expect(error?.code == .channelClosed)
            #expect(error?.replyCode == 406)
            #expect(error?.message.contains("PRECONDITION_FAILED") == true)
            #expect(error?.message.contains("x-queue-type") == true)
            // The channel is reopened: the same connection goes on working.
            try await connection.declare(topology)
            #expect(try await connection.messageCount(queue: queue) == 0)
        }
    }

    @Test("a queue that keeps its existing arguments is only checked to exist when declared again with others")
    func queueThatKeepsItsArgumentsIsNotRedeclared() async throws {
        let topology = fanoutTopology("keeps", queues: 1)
        let queue = topology.queues[0].name
        try await withTopology(topology) { connection in
            try await connection.publish(AMQPMessage(exchange: topology.exchanges[0].name, body: Array("kept".utf8)))
            let other = AMQPTopology.Queue.quorum(name: queue, deliveryLimit: 7, keepsExistingArguments: true)
            try await connection.declare(AMQPTopology(queues: [other]))
            #expect(try await connection.messageCount(queue: queue) == 1, "the queue and its message are still there")
            let missing = AMQPTopology.Queue.quorum(name: queue + ".missing", deliveryLimit: 7, keepsExistingArguments: true)
            try await connection.declare(AMQPTopology(queues: [missing]))
            #expect(try await connection.messageCount(queue: missing.name) == 0, "a queue that does not exist is declared")
            _ = try await connection.delete(queue: missing.name)
        }
    }

    @Test func passiveDeclareOfAMissingQueueIs404() async throws {
        try await withConnection { connection in
            let error = await #expect(throws: AMQPError.self) {
                _ = try await connection.messageCount(queue: TestEnvironment.uniqueName("missing"))
            }
            #expect(error?.code == .channelClosed)
            #expect(error?.replyCode == 404)
            #expect(connection.isOpen)
        }
    }

    @Test func publishingToAMissingExchangeIs404AndTheConnectionRecovers() async throws {
        let topology = fanoutTopology("missing-exchange", queues: 1)
        try await withTopology(topology) { connection in
            let error = await #expect(throws: AMQPError.self) {
                try await connection.publish(AMQPMessage(exchange: TestEnvironment.uniqueName("nowhere"), body: [1]))
            }
            #expect(error?.code == .channelClosed)
            #expect(error?.replyCode == 404)
            try await connection.publish(AMQPMessage(exchange: topology.exchanges[0].name, body: [2]))
            #expect(try await connection.messageCount(queue: topology.queues[0].name) == 1)
        }
    }

    // MARK: Publishing and consuming

    @Test func publishesAThousandConfirmedMessagesToAFanoutWithTwoQuorumQueues() async throws {
        let topology = fanoutTopology("fanout", queues: 2)
        let exchange = topology.exchanges[0].name
        let count = 1000
        let timestamp = Date(timeIntervalSince1970: 1_790_000_123)
        func message(_ index: Int) -> AMQPMessage {
            AMQPMessage(
                exchange: exchange,
                body: Array("{\"n\":\(index)}".utf8),
                properties: AMQPProperties(
                    contentType: "application/json",
                    persistent: true,
                    messageID: "message-\(index)",
                    type: "test.created",
                    timestamp: timestamp,
                    appID: "amqp-tests",
                    correlationID: "request-\(index)",
                    headers: ["x-sequence": .int(Int64(index)), "x-trace": .table(["hop": .int(1), "via": "tests"]), "x-flag": true]
                )
            )
        }
        try await withTopology(topology) { connection in
            try await connection.publish((0..<count).map(message))
            for queue in topology.queues {
                #expect(try await connection.messageCount(queue: queue.name) == count)
            }
            for queue in topology.queues {
                let received = try await consume(count, from: queue.name, topology: topology)
                #expect(received.count == count)
                for (index, delivery) in received.enumerated() {
                    let expected = message(index)
                    #expect(delivery.body == expected.body)
                    #expect(delivery.properties == expected.properties)
                    #expect(delivery.exchange == exchange)
                    #expect(!delivery.redelivered)
                }
                await expectEventually { (try? await connection.messageCount(queue: queue.name)) == 0 }
            }
        }
    }

    @Test func publishOneAtATimeIsConfirmed() async throws {
        let topology = fanoutTopology("single", queues: 1)
        try await withTopology(topology) { connection in
            for index in 0..<10 {
                try await connection.publish(AMQPMessage(exchange: topology.exchanges[0].name, body: [UInt8(index)]))
            }
            #expect(try await connection.messageCount(queue: topology.queues[0].name) == 10)
        }
    }

    @Test func aNackFromTheBrokerThrowsNacked() async throws {
        // A (classic) queue that refuses messages beyond its length makes the broker nack them;
        // quorum queues enforce the limit only approximately.
        let exchange = TestEnvironment.uniqueName("nack.exchange")
        let queue = TestEnvironment.uniqueName("nack.queue")
        let topology = AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout)],
            queues: [.init(name: queue, arguments: ["x-max-length": 1, "x-overflow": "reject-publish"])],
            bindings: [.init(queue: queue, exchange: exchange)]
        )
        try await withTopology(topology) { connection in
            try await connection.publish(AMQPMessage(exchange: exchange, body: [1]))
            let error = await #expect(throws: AMQPError.self) {
                try await connection.publish([AMQPMessage(exchange: exchange, body: [2]), AMQPMessage(exchange: exchange, body: [3])])
            }
            #expect(error?.code == .nacked)
            #expect(connection.isOpen)
            #expect(try await connection.messageCount(queue: queue) == 1)
        }
    }

    @Test func aCallCollectingNacksReturnsTheNackedPositionsAndTheOthersAreConfirmed() async throws {
        let exchange = TestEnvironment.uniqueName("nacks.exchange")
        let queue = TestEnvironment.uniqueName("nacks.queue")
        let topology = AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout)],
            queues: [.init(name: queue, arguments: ["x-max-length": 2, "x-overflow": "reject-publish"])],
            bindings: [.init(queue: queue, exchange: exchange)]
        )
        try await withTopology(topology) { connection in
            let nacked = try await connection.publishCollectingNacks((1...4).map { AMQPMessage(exchange: exchange, body: [UInt8($0)]) })
            #expect(nacked.sorted() == [2, 3])
            #expect(try await connection.messageCount(queue: queue) == 2)
        }
    }

    @Test func aCallPublishedAloneTakesTheBlameForItsOwn406AndTheCallQueuedBehindItGoesOn() async throws {
        // The local broker's max_message_size is 1 MiB: a larger message closes the channel with 406.
        let exchange = TestEnvironment.uniqueName("alone.exchange")
        let queue = TestEnvironment.uniqueName("alone.queue")
        let topology = AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout)], queues: [.quorum(name: queue)], bindings: [.init(queue: queue, exchange: exchange)])
        try await withTopology(topology) { connection in
            let oversize = AMQPMessage(exchange: exchange, body: [UInt8](repeating: 120, count: 1_200_000))
            let good = AMQPMessage(exchange: exchange, body: [1])
            async let refused: AMQPError? = {
                do {
                    try await connection.publishAlone([oversize])
                    return nil
                } catch let error as AMQPError {
                    return error
                }
            }()
            async let published: Void = connection.publish([good])
            let error = try await refused
            #expect(error?.replyCode == 406, "\(String(describing: error))")
            try await published
            #expect(try await connection.messageCount(queue: queue) == 1)
        }
    }

    @Test func nackWithRequeueRedeliversAndRejectDeadLetters() async throws {
        let exchange = TestEnvironment.uniqueName("dlx-test.exchange")
        let deadLetterExchange = TestEnvironment.uniqueName("dlx-test.dlx")
        let queue = TestEnvironment.uniqueName("dlx-test.queue")
        let deadQueue = "\(queue).dead"
        let topology = AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout), .init(name: deadLetterExchange, kind: .direct)],
            queues: [
                .quorum(name: queue, deadLetterExchange: deadLetterExchange, deadLetterRoutingKey: deadQueue, deliveryLimit: 5),
                .quorum(name: deadQueue),
            ],
            bindings: [.init(queue: queue, exchange: exchange), .init(queue: deadQueue, exchange: deadLetterExchange, routingKey: deadQueue)]
        )
        let properties = AMQPProperties(
            contentType: "application/json", messageID: UUID().uuidString, type: "test.poison", appID: "amqp-tests", headers: ["x-sequence": 7])
        let body = Array("{\"poison\":true}".utf8)
        try await withTopology(topology) { connection in
            try await connection.publish(AMQPMessage(exchange: exchange, body: body, properties: properties))

            let first = try #require(try await connection.get(queue: queue))
            #expect(!first.redelivered)
            try await first.nack(requeue: true)

            let second = try #require(try await connection.get(queue: queue))
            #expect(second.redelivered)
            #expect(second.body == body)
            try await second.reject()

            var deadLettered: AMQPDelivery?
            _ = try await eventually {
                deadLettered = try await connection.get(queue: deadQueue)
                return deadLettered != nil
            }
            let dead = try #require(deadLettered)
            #expect(dead.body == body)
            #expect(dead.properties.messageID == properties.messageID)
            #expect(dead.properties.type == properties.type)
            #expect(dead.properties.contentType == properties.contentType)
            #expect(dead.properties.headers["x-sequence"] == 7)
            #expect(dead.routingKey == deadQueue)
            try await dead.ack()
            #expect(try await connection.messageCount(queue: queue) == 0)
            #expect(try await connection.messageCount(queue: deadQueue) == 0)
        }
    }

    @Test func ackOnAClosedConnectionThrowsConnectionClosed() async throws {
        let topology = fanoutTopology("ack-closed", queues: 1)
        try await withTopology(topology) { connection in
            try await connection.publish(AMQPMessage(exchange: topology.exchanges[0].name, body: [1]))
            let delivery = try await withConnection { other in try #require(try await other.get(queue: topology.queues[0].name)) }
            let error = await #expect(throws: AMQPError.self) { try await delivery.ack() }
            #expect(error?.code == .connectionClosed)
            // Closing the connection returned the message to the queue.
            await expectEventually { (try? await connection.messageCount(queue: topology.queues[0].name)) == 1 }
        }
    }

    @Test func closedConnectionRejectsWork() async throws {
        let connection = try await AMQPConnection.connect(try TestEnvironment.amqpConfiguration(), logger: TestEnvironment.logger)
        #expect(connection.isOpen)
        await connection.close()
        #expect(!connection.isOpen)
        await connection.close()
        let error = await #expect(throws: AMQPError.self) { try await connection.publish(AMQPMessage(exchange: "", body: [])) }
        #expect(error?.code == .connectionClosed)
    }

    // MARK: Helpers

    /// Expects connecting with `configuration` to fail with an ``AMQPError`` that `matches`.
    func expectConnectFailure(
        _ configuration: AMQPConfiguration, sourceLocation: SourceLocation = #_sourceLocation, _ matches: (AMQPError) -> Bool
    ) async {
        let error = await #expect(throws: AMQPError.self, sourceLocation: sourceLocation) {
            try await withConnection(configuration) { _ in }
        }
        #expect(error.map(matches) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    /// Consumes `count` messages from `queue` with an ``AMQPConsumer``, acking each, within 30 s.
    func consume(_ count: Int, from queue: String, topology: AMQPTopology) async throws -> [AMQPDelivery] {
        let consumer = AMQPConsumer(
            configuration: try TestEnvironment.amqpConfiguration(), topology: topology, queue: queue, prefetch: 100, logger: TestEnvironment.logger)
        let received = Collector<AMQPDelivery>()
        let task = Task {
            for await delivery in consumer {
                try await delivery.ack()
                received.append(delivery)
            }
        }
        let complete = await eventually(timeout: .seconds(90)) { received.count >= count }
        // A quorum queue applies acks asynchronously, and acks still in flight when the channel
        // closes are dropped (the messages come again: delivery is at-least-once). Give the
        // broker a moment before the consumer closes, so the test sees a drained queue.
        try await Task.sleep(for: .seconds(1))
        task.cancel()
        try await task.value
        #expect(complete, "received \(received.count) of \(count)")
        return received.all
    }
}
