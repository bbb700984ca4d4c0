import TestSupport
import Testing

@testable import AMQP

/// The publisher recovers from the broker's objects disappearing under it, and tells an
/// unroutable mandatory message from a delivered one.
@Suite("AMQP publisher recovery")
struct AMQPPublisherRecoveryTests {
    @Test("an exchange deleted while connected: the publish fails with 404, the next one re-declares it and succeeds")
    func exchangeDeletedWhileConnected() async throws {
        let topology = fanoutTopology("redeclare", queues: 1)
        let exchange = topology.exchanges[0].name
        let queue = topology.queues[0].name
        try await withTopology(topology) { connection in
            let publisher = AMQPPublisher(
                configuration: try TestEnvironment.amqpConfiguration(), topology: topology, logger: TestEnvironment.logger)
            try await withRunning([publisher]) {
                try await publisher.publish([AMQPMessage(exchange: exchange, body: Array("before".utf8))])
                try await connection.delete(exchange: exchange)
                let error = await #expect(throws: AMQPError.self) {
                    try await publisher.publish([AMQPMessage(exchange: exchange, body: Array("lost".utf8))])
                }
                #expect(error?.replyCode == 404)
                // The queue's binding went with the exchange; the re-declared topology binds it again.
                try await publisher.publish([AMQPMessage(exchange: exchange, body: Array("after".utf8), mandatory: true)])
            }
            #expect(try await connection.messageCount(queue: queue) == 2, "before and after arrived; the one published into nothing did not")
        }
    }

    @Test("a mandatory message that no queue takes fails with .unroutable; the same message to a bound exchange is confirmed")
    func unroutableMandatoryMessage() async throws {
        let bound = fanoutTopology("mandatory", queues: 1)
        let unbound = fanoutTopology("mandatory-unbound", queues: 0)
        try await withTopology(bound) { connection in
            try await withTopology(unbound) { _ in
                let body = Array("hello".utf8)
                let error = await #expect(throws: AMQPError.self) {
                    try await connection.publish(AMQPMessage(exchange: unbound.exchanges[0].name, body: body, mandatory: true))
                }
                #expect(error?.code == .unroutable)
                // Without mandatory the broker confirms it (and drops it): why the relay publishes mandatory.
                try await connection.publish(AMQPMessage(exchange: unbound.exchanges[0].name, body: body))
                try await connection.publish(AMQPMessage(exchange: bound.exchanges[0].name, body: body, mandatory: true))
                #expect(try await connection.messageCount(queue: bound.queues[0].name) == 1)
            }
        }
    }
}
