import AMQP
import Contract
import Foundation
import TestSupport
import Testing

@testable import Replication

/// Each service reaches the broker as its own user (compose/rabbitmq/definitions.json, imported
/// by scripts/local-servers): it may write only its own exchange and the DLX, and read only its
/// own queues; RabbitMQ validates the `user_id` of what it publishes; and a consumer takes only
/// its peer's events.
@Suite("Least privilege (RabbitMQ users of the definitions file)")
struct LeastPrivilegeTests {
    /// The broker as `user` (the definitions file's development password is the user's name).
    static func connect(as user: String) async throws -> AMQPConnection {
        var configuration = try TestEnvironment.amqpConfiguration()
        configuration.user = user
        configuration.password = user
        return try await AMQPConnection.connect(configuration, logger: TestEnvironment.logger)
    }

    @Test("customer-service's credentials cannot publish to order.events, nor consume order-service's queue (found by a new user)")
    func cannotActAsThePeer() async throws {
        let connection = try await Self.connect(as: "customer-service")
        let forged = AMQPMessage(exchange: "order.events", body: Array("{}".utf8), mandatory: true)
        let publish = await #expect(throws: AMQPError.self) { try await connection.publish(forged) }
        #expect(publish?.replyCode == 403, "\(String(describing: publish))")
        let consume = await #expect(throws: AMQPError.self) { _ = try await connection.get(queue: "order-service.customer-events") }
        #expect(consume?.replyCode == 403, "\(String(describing: consume))")
        await connection.close()
    }

    @Test("a publisher cannot claim another user_id: RabbitMQ refuses it (406)")
    func cannotForgeUserID() async throws {
        let connection = try await Self.connect(as: "customer-service")
        var properties = AMQPProperties()
        properties.userID = "order-service"
        let message = AMQPMessage(exchange: "customer.events", body: Array("{}".utf8), properties: properties)
        let error = await #expect(throws: AMQPError.self) { try await connection.publish(message) }
        #expect(error?.replyCode == 406, "\(String(describing: error))")
        await connection.close()
    }

    @Test("a service declares its own topology, binding to the peer's exchange it may not configure")
    func declaresItsSubscription() async throws {
        let connection = try await Self.connect(as: "customer-service")
        let names = ReplicationNames(prefix: "")
        try await connection.declare(ReplicationTopology.publisher(exchange: names.customerEvents, names: names))
        try await connection.declare(ReplicationTopology.subscriber(exchange: names.orderEvents, queue: names.orderEventsQueue, names: names))
        await connection.close()
    }

    @Test("an event whose user_id is not the peer's is dead-lettered as unauthenticated-publisher and changes nothing")
    func forgedEventIsDeadLettered() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            var configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
                exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, concurrency: 1)
            let broker = try TestEnvironment.amqpConfiguration().user
            configuration.acceptedPublisher = broker
            try await connection.declare(configuration.topology)
            let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: database)
            let forged = ReplicaConsumerTests.order()
            let genuine = ReplicaConsumerTests.order()
            try await withRunning([publisher, consumer]) {
                // No user_id at all, then the accepted user's (RabbitMQ checked it against the connection).
                try await ReplicaConsumerTests.publish(
                    try ReplicaConsumerTests.body(eventID: UUID(), order: forged), label: "forged", to: names, on: connection)
                var properties = AMQPProperties(contentType: "application/json", messageID: "genuine", type: "order.created", userID: broker)
                properties.appID = "order-service"
                try await connection.publish(
                    AMQPMessage(
                        exchange: names.orderEvents, body: try ReplicaConsumerTests.body(eventID: UUID(), order: genuine), properties: properties))
                try await waitUntil {
                    let status = try await ReplicaConsumerTests.status(database)
                    return status.deadLettered == 1 && status.processed == 1
                }
            }
            let replicated = try await database.query("SELECT id FROM replica_orders").map { try $0.decode(0, as: UUID.self) }
            #expect(replicated == [genuine.id], "the forged event changed nothing")
            let dead = try await drainQueue(names.deadLetterQueue(of: names.orderEventsQueue), on: connection)
            try #require(dead.count == 1)
            #expect(dead[0].properties.headers["x-dead-letter-reason"]?.stringValue?.hasPrefix("unauthenticated-publisher: ") == true)
            #expect(dead[0].properties.messageID == "forged")
        }
    }
}
