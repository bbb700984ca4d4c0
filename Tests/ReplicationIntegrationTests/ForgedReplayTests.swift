import AMQP
import Contract
import Foundation
import Postgres
import Retry
import TestSupport
import Testing

@testable import Replication

/// Replays of dead letters against the broker users of the definitions file: the consumer runs as
/// `order-service` and accepts `customer-service`'s events, and the test publishes as the broker's
/// admin user. A replay is trusted only for what RabbitMQ validated, never for a header.
///
/// The suite uses the definitions' own queue (`order-service.customer-events`), the only one those
/// users may read, and empties it before and after each test; its tests run one at a time.
@Suite("Forged replays (RabbitMQ users of the definitions file)", .serialized)
struct ForgedReplayTests {
    static let names = ReplicationNames(prefix: "")
    static var queue: String { names.customerEventsQueue }
    static var deadQueue: String { names.deadLetterQueue(of: queue) }

    /// The broker as `order-service` (the definitions file's development password is the user's name).
    static func serviceAMQP() throws -> AMQPConfiguration {
        var configuration = try TestEnvironment.amqpConfiguration()
        configuration.user = "order-service"
        configuration.password = "order-service"
        return configuration
    }

    /// A running consumer of the definitions' queue as `order-service`, accepting `customer-service`,
    /// and the dead letters of its queue; both queues emptied before and after.
    static func withServiceConsumer(
        database: PostgresClient, admin: AMQPConnection, _ body: (DeadLetters) async throws -> Void
    ) async throws {
        let amqp = try serviceAMQP()
        let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
            exchange: names.customerEvents, queue: queue, names: names, concurrency: 1, maxAttempts: 2,
            retry: Backoff(initial: .milliseconds(20), cap: .milliseconds(100)), acceptedPublisher: "customer-service")
        let publisher = AMQPPublisher(
            configuration: amqp, topology: ReplicationTopology.publisher(exchange: names.orderEvents, names: names), logger: TestEnvironment.logger)
        let consumer = ReplicaConsumer(
            configuration: configuration, amqp: amqp, database: database, publisher: publisher, handler: OrderReplicaHandler(),
            logger: TestEnvironment.logger)
        let deadLetters = DeadLetters(queue: queue, deadLetterQueue: deadQueue, amqp: amqp, logger: TestEnvironment.logger)
        try await withCleanUp {
            try await admin.declare(configuration.topology)
            _ = try await admin.purge(queue: queue)
            _ = try await admin.purge(queue: deadQueue)
            try await withRunning([publisher, consumer]) { try await body(deadLetters) }
        } cleanUp: {
            try await withConnection { cleanup in
                _ = try await cleanup.purge(queue: queue)
                _ = try await cleanup.purge(queue: deadQueue)
            }
        }
    }

    @Test(
        "a forged x-original-user-id makes no replay trusted: not from a delivery without user_id, nor from a letter put into the dead-letter queue")
    func forgedReplaysAreRefused() async throws {
        try await withTestDatabase { database, _ in
            try await withConnection { admin in
                try await Self.withServiceConsumer(database: database, admin: admin) { deadLetters in
                    // Published by the admin user with no user_id, claiming the peer in the header a replay carries.
                    var forged = AMQPProperties(contentType: "application/json", messageID: "forged-delivery", type: "order.created")
                    forged.headers = ["x-original-user-id": "customer-service", "x-replayed-from": .string(Self.deadQueue)]
                    try await admin.publish(
                        AMQPMessage(
                            exchange: "", routingKey: Self.queue,
                            body: try ReplicaConsumerTests.body(eventID: UUID(), order: ReplicaConsumerTests.order()),
                            properties: forged, mandatory: true))
                    try await waitUntil(timeout: .seconds(30)) { try await admin.messageCount(queue: Self.deadQueue) == 1 }
                    // Put into the dead-letter queue directly, as a letter of the consumer's would look.
                    var letter = AMQPProperties(contentType: "application/json", messageID: "forged-letter", type: "order.created")
                    letter.headers = ["x-original-user-id": "customer-service", "x-dead-letter-reason": "processing-failed: forged"]
                    try await admin.publish(
                        AMQPMessage(
                            exchange: "", routingKey: Self.deadQueue,
                            body: try ReplicaConsumerTests.body(eventID: UUID(), order: ReplicaConsumerTests.order()), properties: letter,
                            mandatory: true))

                    let settled = try await deadLetters.replay(.all)
                    #expect(settled.count == 1, "the forged letter is replayed, under its own (absent) user_id")
                    #expect(settled.skipped == 1, "the unauthenticated-publisher letter is not replayed")
                    try await waitUntil(timeout: .seconds(30)) {
                        try await ReplicaConsumerTests.status(database).deadLettered == 2
                    }
                    try await waitUntil { try await admin.messageCount(queue: Self.deadQueue) == 2 }
                    let listed = try await deadLetters.list(limit: 10).letters
                    #expect(listed.map(\.reason) == ["unauthenticated-publisher", "unauthenticated-publisher"], "\(listed)")
                    #expect(Set(listed.compactMap(\.eventId)) == ["forged-delivery", "forged-letter"])
                }
                #expect(
                    try await database.query("SELECT count(*) FROM replica_orders")[0].decode(0, as: Int64.self) == 0, "nothing forged was applied")
            }
        }
    }

    @Test("a replay that fails again keeps its original publisher round after round, and is applied once it can be")
    func replayKeepsTheOriginalPublisher() async throws {
        try await withTestDatabase { database, _ in
            try await withConnection { admin in
                try await Self.withServiceConsumer(database: database, admin: admin) { deadLetters in
                    try await database.withConnection {
                        try await $0.execute("ALTER TABLE replica_orders ADD CONSTRAINT refused CHECK (amount <> 999)")
                    }
                    let order = ReplicaConsumerTests.order(amount: 999)
                    let peer = try await LeastPrivilegeTests.connect(as: "customer-service")
                    var properties = AMQPProperties(
                        contentType: "application/json", messageID: "genuine", type: "order.created", userID: "customer-service")
                    properties.appID = "customer-service"
                    try await peer.publish(
                        AMQPMessage(
                            exchange: Self.names.customerEvents, body: try ReplicaConsumerTests.body(eventID: UUID(), order: order),
                            properties: properties, mandatory: true))
                    await peer.close()
                    for round in 1...3 {
                        try await waitUntil(timeout: .seconds(30)) { try await admin.messageCount(queue: Self.deadQueue) == 1 }
                        let listed = try await deadLetters.list(limit: 10).letters
                        #expect(listed.map(\.reason) == ["processing-failed"], "round \(round): \(listed.map(\.reason))")
                        // The listing's connection closed: its letter is back in the queue before the replay takes it.
                        try await waitUntil { try await admin.messageCount(queue: Self.deadQueue) == 1 }
                        if round == 3 {
                            try await database.withConnection { try await $0.execute("ALTER TABLE replica_orders DROP CONSTRAINT refused") }
                        }
                        #expect(try await deadLetters.replay(.all).count == 1, "round \(round)")
                    }
                    try await waitUntil(timeout: .seconds(30)) {
                        try await database.query("SELECT count(*) FROM replica_orders WHERE id = $1", [order.id])[0].decode(0, as: Int64.self) == 1
                    }
                    #expect(try await admin.messageCount(queue: Self.deadQueue) == 0)
                }
            }
        }
    }
}
