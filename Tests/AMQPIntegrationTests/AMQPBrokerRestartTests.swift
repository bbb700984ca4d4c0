import Foundation
import Synchronization
import TestSupport
import Testing

@testable import AMQP

/// Tests that stop and start the shared broker. The test command runs suites whose names end in
/// `RestartTests` on their own, serially, so no other test sees the broker go away.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AMQPBrokerRestartTests {
    @Test func consumerAndPublisherSurviveABrokerRestart() async throws {
        var configuration = try TestEnvironment.amqpConfiguration()
        configuration.connectTimeout = .seconds(2)
        configuration.confirmTimeout = .seconds(3)
        configuration.reconnectMaximumDelay = .seconds(1)
        let script = try TestEnvironment.serversScript()
        let topology = fanoutTopology("restart", queues: 1)
        let exchange = topology.exchanges[0].name
        let queue = topology.queues[0].name
        func messages(_ range: Range<Int>) -> [AMQPMessage] {
            range.map {
                AMQPMessage(
                    exchange: exchange, body: Array("message \($0)".utf8),
                    properties: AMQPProperties(messageID: "m\($0)", headers: ["x-sequence": .int(Int64($0))]))
            }
        }

        try await withTopology(topology) { _ in
            let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: TestEnvironment.logger)
            let publisherRunning = Task { try await publisher.run() }
            defer { publisherRunning.cancel() }
            let connectionChanges = Mutex<[Bool]>([])
            let consumer = AMQPConsumer(configuration: configuration, topology: topology, queue: queue, prefetch: 10, logger: TestEnvironment.logger)
            { connected in
                connectionChanges.withLock { $0.append(connected) }
            }
            let received = Collector<AMQPDelivery>()
            let consuming = Task {
                for await delivery in consumer {
                    // An ack can fail when the broker goes away right now; the message then comes again.
                    if (try? await delivery.ack()) != nil { received.append(delivery) }
                }
            }
            defer { consuming.cancel() }

            try await publisher.publish(messages(0..<5))
            #expect(publisher.isConnected)
            await expectEventually { received.count >= 5 }

            try await run(script: script, "stop-rabbitmq")
            await expectEventually(timeout: .seconds(15)) { !publisher.isConnected }
            // While the broker is down, a publish fails within connectTimeout + confirmTimeout.
            let started = ContinuousClock.now
            let error = await #expect(throws: AMQPError.self) { try await publisher.publish(messages(5..<6)) }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < configuration.connectTimeout + configuration.confirmTimeout + .seconds(1), "publish took \(elapsed)")
            let code = error?.code
            #expect(code == .connectionRefused || code == .connectionClosed || code == .timeout, "\(String(describing: error))")
            try await run(script: script, "start-rabbitmq")

            // After the restart, new messages reach the same iteration, which reconnected by itself.
            let republished = await eventually(timeout: .seconds(60)) {
                (try? await publisher.publish(messages(6..<11))) != nil
            }
            #expect(republished)
            await expectEventually("received after restart: \(received.all.compactMap(\.properties.messageID))", timeout: .seconds(60)) {
                Set(received.all.compactMap(\.properties.messageID)).isSuperset(of: (6..<11).map { "m\($0)" })
            }
            let connections = connectionChanges.withLock { $0.filter { $0 }.count }
            #expect(connections >= 2, "the consumer reconnected")

            consuming.cancel()
            await consuming.value
            publisherRunning.cancel()
            try await publisherRunning.value
            #expect(!publisher.isConnected)
        }
    }

    @Test func aMemoryAlarmBlocksPublishingWithinADeadlineAndItResumesAfter() async throws {
        var configuration = try TestEnvironment.amqpConfiguration()
        configuration.confirmTimeout = .seconds(3)
        let script = try TestEnvironment.serversScript()
        let topology = fanoutTopology("alarm", queues: 1)
        let exchange = topology.exchanges[0].name
        try await withTopology(topology) { connection in
            let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: TestEnvironment.logger)
            try await withRunning([publisher]) {
                try await publisher.publish([AMQPMessage(exchange: exchange, body: Array("before".utf8))])
                try await run(script: script, "rabbitmqctl", "set_vm_memory_high_watermark", "0.000001")
                defer { Task { try? await run(script: script, "rabbitmqctl", "set_vm_memory_high_watermark", "0.4") } }
                // Publishing under the alarm fails (blocked, or no confirm within the deadline); it never hangs.
                let failed = await eventually(timeout: .seconds(30)) {
                    (try? await publisher.publish([AMQPMessage(exchange: exchange, body: Array("during".utf8))])) == nil
                }
                #expect(failed, "publishing went on under a memory alarm")
                await expectEventually("connection.blocked was not seen", timeout: .seconds(10)) { publisher.isBlocked }
                try await run(script: script, "rabbitmqctl", "set_vm_memory_high_watermark", "0.4")
                let resumed = await eventually(timeout: .seconds(30)) {
                    (try? await publisher.publish([AMQPMessage(exchange: exchange, body: Array("after".utf8))])) != nil
                }
                #expect(resumed, "publishing did not resume after the alarm cleared")
                #expect(!publisher.isBlocked)
            }
            #expect(try await connection.messageCount(queue: topology.queues[0].name) >= 2)
        }
    }
}
