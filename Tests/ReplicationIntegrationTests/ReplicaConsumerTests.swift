import AMQP
import Contract
import Foundation
import Postgres
import TestSupport
import Testing

@testable import Replication

/// Applies `order.created` to the test table `replica_orders`, as a subscribing service would.
struct OrderReplicaHandler: ReplicaEventHandler {
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> OrderRecord {
        try event.record(of: .orderCreated, as: OrderRecord.self) { $0.validate(prefix: "data.") }
    }

    /// Thrown for the amount ``unprocessableAmount``: a failure that retrying does not mend.
    struct Unprocessable: Error, CustomStringConvertible {
        var description: String { "the test handler refuses this order" }
    }

    /// An amount the handler always fails to apply (after writing its row, to show the rollback).
    static let unprocessableAmount: Int64 = 13

    /// An amount the handler applies slowly (a 30 s statement), to stop the consumer mid-event.
    static let slowAmount: Int64 = 77

    /// An amount the handler takes a second to apply, to shut the consumer down while it works.
    static let secondAmount: Int64 = 78

    func apply(_ changes: [PreparedEvent<OrderRecord>], on connection: PostgresConnection) async throws -> Set<UUID> {
        if changes.contains(where: { $0.change.amount == Self.slowAmount }) {
            try await connection.query("SELECT pg_sleep(30)")
        }
        if changes.contains(where: { $0.change.amount == Self.secondAmount }) {
            try await connection.query("SELECT pg_sleep(1)")
        }
        var written = Set<UUID>()
        for prepared in changes {
            let order = prepared.change
            if order.amount == Self.unprocessableAmount {
                try await connection.query(
                    "INSERT INTO replica_orders (id, customer_id, amount, event_id) VALUES ($1, $2, $3, $4)",
                    [order.id, order.customerId, order.amount, prepared.event.envelope.eventId]
                )
                throw Unprocessable()
            }
            let inserted = try await connection.query(
                """
                INSERT INTO replica_orders (id, customer_id, amount, event_id, request_id) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """,
                [order.id, order.customerId, order.amount, prepared.event.envelope.eventId, prepared.event.envelope.requestId]
            )
            if !inserted.isEmpty { written.insert(order.id) }
        }
        return written
    }
}

/// The idempotent consumer against a real broker and database: exactly-once effect,
/// inbox outcomes, counters, and dead-lettering of poison with the reason.
@Suite("Replica consumer (PostgreSQL + RabbitMQ)")
struct ReplicaConsumerTests {
    /// An `order.created` body for `order`.
    static func body(eventID: UUID, order: OrderRecord, sequence: Int64 = 1, requestId: String? = "req-consumer") throws -> [UInt8] {
        let envelope = EventEnvelope(
            eventId: eventID, type: EventType.orderCreated.rawValue, occurredAt: Date(), sequence: sequence, requestId: requestId, data: order)
        return try envelope.body()
    }

    static func order(amount: Int64 = 1_000) -> OrderRecord {
        OrderRecord(id: UUID(), customerId: UUID(), amount: amount, createdAt: Date())
    }

    /// Publishes `body` to the queue's exchange, as a peer's relay would.
    static func publish(_ body: [UInt8], label: String, to names: ReplicationNames, on connection: AMQPConnection) async throws {
        try await connection.publish(
            AMQPMessage(
                exchange: names.orderEvents,
                body: body,
                properties: AMQPProperties(contentType: "application/json", messageID: label, type: "order.created", appID: "order-service")
            )
        )
    }

    /// The consumer of `names.orderEventsQueue` with its dead-letter publisher; the queue is
    /// declared first, and the `waiting` bodies published to it before the consumer starts
    /// (so that they arrive together, as a backlog does).
    static func withConsumer<T: Sendable>(
        _ names: ReplicationNames,
        database: PostgresClient,
        connection: AMQPConnection,
        concurrency: Int,
        batchSize: Int = 50,
        waiting: [[UInt8]] = [],
        _ body: () async throws -> T
    ) async throws -> T {
        let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
            exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, prefetch: 100, concurrency: concurrency, batchSize: batchSize
        )
        try await connection.declare(configuration.topology)
        for message in waiting {
            try await publish(message, label: "waiting", to: names, on: connection)
        }
        let (publisher, consumer) = try makeConsumer(configuration, names: names, database: database)
        return try await withRunning([publisher, consumer], body)
    }

    /// A consumer with `configuration` on `database`, and the publisher it dead-letters through (neither running).
    static func makeConsumer(
        _ configuration: ReplicaConsumer<OrderReplicaHandler>.Configuration,
        names: ReplicationNames,
        database: PostgresClient
    ) throws -> (AMQPPublisher, ReplicaConsumer<OrderReplicaHandler>) {
        let amqp = try TestEnvironment.amqpConfiguration()
        let publisher = AMQPPublisher(
            configuration: amqp,
            topology: ReplicationTopology.publisher(exchange: names.customerEvents, names: names),
            logger: TestEnvironment.logger
        )
        let consumer = ReplicaConsumer(
            configuration: configuration, amqp: amqp, database: database, publisher: publisher,
            handler: OrderReplicaHandler(), logger: TestEnvironment.logger
        )
        return (publisher, consumer)
    }

    static func status(_ database: PostgresClient) async throws -> ReplicationStatus {
        try await ReplicationStatus.read(from: database, replicaTable: "replica_orders", sourceTable: "customers")
    }

    @Test("a duplicate event id and a replay of a present record change nothing, are acked and counted")
    func duplicatesAndReplays() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let first = Self.order(amount: 1_500)
            let second = Self.order(amount: 2_500)
            let (applied, replay, other) = (UUID(), UUID(), UUID())
            try await Self.withConsumer(names, database: database, connection: connection, concurrency: 1) {
                try await Self.publish(try Self.body(eventID: applied, order: first, sequence: 1), label: "first", to: names, on: connection)
                try await Self.publish(try Self.body(eventID: applied, order: first, sequence: 1), label: "again", to: names, on: connection)
                try await Self.publish(try Self.body(eventID: replay, order: first, sequence: 2), label: "replay", to: names, on: connection)
                try await Self.publish(try Self.body(eventID: other, order: second, sequence: 3), label: "second", to: names, on: connection)
                let done = try await eventually {
                    let status = try await Self.status(database)
                    return status.processed == 2 && status.duplicates == 2
                }
                let reached = try await Self.status(database)
                #expect(done, "status: \(reached)")
            }
            #expect(try await connection.messageCount(queue: names.orderEventsQueue) == 0, "every delivery was acked")

            let rows = try await database.query("SELECT id, amount, event_id, request_id FROM replica_orders ORDER BY amount")
            try #require(rows.count == 2)
            #expect(try rows[0].decode(0, as: UUID.self) == first.id)
            #expect(try rows[0].decode(1, as: Int64.self) == 1_500)
            #expect(try rows[0].decode(2, as: UUID.self) == applied)
            #expect(try rows[0].decode(3, as: String?.self) == "req-consumer")
            #expect(try rows[1].decode(0, as: UUID.self) == second.id)

            let inbox = try await database.query("SELECT event_id, outcome, source_sequence FROM inbox ORDER BY source_sequence")
            let outcomes = try inbox.map {
                (try $0.decode(0, as: UUID.self), try $0.decode(1, as: String.self), try $0.decode(2, as: Int64.self))
            }
            #expect(outcomes.map(\.0) == [applied, replay, other])
            #expect(outcomes.map(\.1) == ["applied", "replay", "applied"])
            #expect(outcomes.map(\.2) == [1, 2, 3])

            let status = try await Self.status(database)
            #expect(status.processed == 2)
            #expect(status.duplicates == 2)
            #expect(status.deadLettered == 0)
            #expect(status.replica == TableDigest(ids: [first.id, second.id]))
            #expect(status.source == TableDigest(count: 0, digest: "0000000000000000"))
            #expect(try await connection.messageCount(queue: names.deadLetterQueue(of: names.orderEventsQueue)) == 0)
        }
    }

    @Test("poison goes to <queue>.dead with x-dead-letter-reason starting with its code, and the consumer goes on")
    func poison() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let deadQueue = names.deadLetterQueue(of: names.orderEventsQueue)
            let valid = Self.order()
            let orderJSON = String(decoding: try JSONEncoder().encode(Self.order()), as: UTF8.self)
            let wrongAmount = orderJSON.replacingOccurrences(of: #""amount":1000"#, with: #""amount":"lots""#)
            try #require(wrongAmount != orderJSON)
            let poison: [(label: String, body: String, reason: String, mentions: String)] = [
                ("not-json", "this is not JSON {", "invalid-json", ""),
                (
                    "no-event-id", #"{"type":"order.created","occurredAt":"2026-11-21T18:00:00.000Z","sequence":1,"data":{}}"#,
                    "invalid-envelope", "eventId"
                ),
                (
                    "unknown-type",
                    #"{"eventId":"\#(UUID().lowercased)","type":"order.shipped","occurredAt":"2026-11-21T18:00:00.000Z","sequence":1,"data":{}}"#,
                    "unknown-type", "order.shipped"
                ),
                (
                    "zero-amount", String(decoding: try Self.body(eventID: UUID(), order: Self.order(amount: 0)), as: UTF8.self), "invalid-data",
                    "data.amount"
                ),
                (
                    "text-amount",
                    #"{"eventId":"\#(UUID().lowercased)","type":"order.created","occurredAt":"2026-11-21T18:00:00.000Z","sequence":1,"data":\#(wrongAmount)}"#,
                    "invalid-data", "data.amount"
                ),
            ]
            try await Self.withConsumer(names, database: database, connection: connection, concurrency: 4) {
                for message in poison {
                    try await Self.publish(Array(message.body.utf8), label: message.label, to: names, on: connection)
                }
                try await Self.publish(try Self.body(eventID: UUID(), order: valid), label: "valid", to: names, on: connection)
                let done = try await eventually {
                    let status = try await Self.status(database)
                    return status.deadLettered == Int64(poison.count) && status.processed == 1
                }
                let reached = try await Self.status(database)
                #expect(done, "status: \(reached)")
            }
            #expect(try await connection.messageCount(queue: names.orderEventsQueue) == 0, "poison was acked, not left to loop")
            let replicated = try await database.query("SELECT id FROM replica_orders").map { try $0.decode(0, as: UUID.self) }
            #expect(replicated == [valid.id])

            let dead = try await drainQueue(deadQueue, on: connection)
            #expect(dead.count == poison.count)
            for message in poison {
                guard let delivery = dead.first(where: { $0.properties.messageID == message.label }) else {
                    Issue.record("\(message.label) is not in \(deadQueue)")
                    continue
                }
                let reason = delivery.properties.headers["x-dead-letter-reason"]?.stringValue ?? ""
                #expect(reason.hasPrefix(message.reason + ": "), "\(message.label): \(reason)")
                #expect(message.mentions.isEmpty || reason.contains(message.mentions), "\(message.label): \(reason)")
                #expect(delivery.properties.headers["x-original-queue"]?.stringValue == names.orderEventsQueue)
                #expect(delivery.body == Array(message.body.utf8), "the original body is kept")
                #expect(delivery.properties.appID == "order-service", "the original properties are kept")
                #expect(delivery.routingKey == deadQueue)
            }
            #expect(try await Self.status(database).deadLettered == Int64(poison.count))
        }
    }

    @Test("an event whose apply keeps failing is rolled back each time, then dead-lettered as processing-failed")
    func processingFailed() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let deadQueue = names.deadLetterQueue(of: names.orderEventsQueue)
            let failing = Self.order(amount: OrderReplicaHandler.unprocessableAmount)
            let fine = Self.order()
            try await Self.withConsumer(names, database: database, connection: connection, concurrency: 2) {
                try await Self.publish(try Self.body(eventID: UUID(), order: failing), label: "failing", to: names, on: connection)
                try await Self.publish(try Self.body(eventID: UUID(), order: fine), label: "fine", to: names, on: connection)
                // Five attempts with backoff (0.1 + 0.2 + 0.4 + 0.8 s at most) fit well within the wait.
                let done = try await eventually(timeout: .seconds(60)) {
                    let status = try await Self.status(database)
                    return status.deadLettered == 1 && status.processed == 1
                }
                let reached = try await Self.status(database)
                #expect(done, "status: \(reached)")
            }
            let replicated = try await database.query("SELECT id FROM replica_orders").map { try $0.decode(0, as: UUID.self) }
            #expect(replicated == [fine.id])
            #expect(
                try await database.query("SELECT count(*) FROM inbox")[0].decode(0, as: Int64.self) == 1, "the failed attempts left no inbox row")
            let dead = try await drainQueue(deadQueue, on: connection)
            try #require(dead.count == 1)
            let reason = dead[0].properties.headers["x-dead-letter-reason"]?.stringValue ?? ""
            #expect(reason.hasPrefix("processing-failed: "), "\(reason)")
            #expect(reason.contains("the test handler refuses this order"), "\(reason)")
            #expect(dead[0].properties.messageID == "failing")
        }
    }

    @Test("a consumer cancelled in the middle of an event leaves it in the queue, not in the dead-letter queue")
    func cancelledMidEvent() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let deadQueue = names.deadLetterQueue(of: names.orderEventsQueue)
            let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
                exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, concurrency: 1
            )
            try await connection.declare(configuration.topology)
            // The dead-letter publisher outlives the consumer, as it may in a service group.
            let (publisher, consumer) = try Self.makeConsumer(configuration, names: names, database: database)
            let slow = Self.order(amount: OrderReplicaHandler.slowAmount)
            try await withRunning([publisher]) {
                try await withRunning([consumer]) {
                    try await Self.publish(try Self.body(eventID: UUID(), order: slow), label: "slow", to: names, on: connection)
                    let started = try await eventually {
                        try await database.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)'"
                        )[0].decode(0, as: Int64.self) == 1
                    }
                    try #require(started, "the handler never started the slow event")
                }
                // The consumer has stopped; give a wrongly dead-lettered message time to arrive.
                let deadLettered = try await eventually(timeout: .seconds(2)) {
                    try await connection.messageCount(queue: deadQueue) > 0
                }
                #expect(!deadLettered, "a valid event was dead-lettered because its consumer was cancelled")
            }
            #expect(try await Self.status(database).deadLettered == 0)
            let requeued = try await eventually { try await connection.messageCount(queue: names.orderEventsQueue) == 1 }
            #expect(requeued, "the unfinished event went back to its queue")
            #expect(try await database.query("SELECT count(*) FROM inbox")[0].decode(0, as: Int64.self) == 0)
        }
    }

    @Test("concurrent deliveries of duplicates and replays still write each record once")
    func concurrentDuplicates() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let orders = (0..<40).map { _ in Self.order() }
            try await Self.withConsumer(names, database: database, connection: connection, concurrency: 8) {
                for body in try Self.backlog(orders) {
                    try await Self.publish(body, label: "while running", to: names, on: connection)
                }
                try await Self.expectConsumed(120, in: database)
            }
            try await Self.expectBacklogApplied(orders, in: database)
        }
    }

    @Test("a backlog drains through the batching workers, duplicates and replays included")
    func backlogThroughWorkers() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let orders = (0..<60).map { _ in Self.order() }
            try await Self.withConsumer(
                names, database: database, connection: connection, concurrency: 2, batchSize: 50, waiting: try Self.backlog(orders)
            ) {
                try await Self.expectConsumed(180, in: database)
            }
            #expect(try await connection.messageCount(queue: names.orderEventsQueue) == 0, "every delivery was acked")
            try await Self.expectBacklogApplied(orders, in: database)
        }
    }

    @Test("one batch is one transaction, with the outcomes of applying its events one at a time")
    func oneBatchOneTransaction() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let orders = (0..<60).map { _ in Self.order() }
            try await Self.processAsOneBatch(try Self.backlog(orders), names: names, database: database, connection: connection)

            try await Self.expectBacklogApplied(orders, in: database)
            // Rows written by one transaction share its id (xmin).
            let transactions = try await database.query("SELECT count(DISTINCT xmin::text) FROM inbox")[0].decode(0, as: Int64.self)
            #expect(transactions == 1, "120 inbox rows in \(transactions) transactions")
            let acked = try await eventually { try await connection.messageCount(queue: names.orderEventsQueue) == 0 }
            #expect(acked, "every delivery of the batch was acked after its commit")
        }
    }

    @Test("of one record's events in a batch, the highest version is the one written, whatever the order")
    func newestOfABatchWins() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let first = Self.order(amount: 100)
            let bodies = try ([1, 3, 2] as [Int64]).map { version in
                var order = first
                order.version = version
                order.amount = version * 100
                return try Self.body(eventID: UUID(), order: order)
            }
            try await Self.processAsOneBatch(bodies, names: names, database: database, connection: connection)
            let amounts = try await database.query("SELECT amount FROM replica_orders").map { try $0.decode(0, as: Int64.self) }
            #expect(amounts == [300], "version 3 was written")
            let status = try await Self.status(database)
            #expect(status.processed == 1 && status.duplicates == 2, "\(status)")
        }
    }

    /// Publishes `bodies` to the queue, fetches them back by hand and has a consumer process them
    /// as exactly one batch, whatever the timing.
    static func processAsOneBatch(
        _ bodies: [[UInt8]], names: ReplicationNames, database: PostgresClient, connection: AMQPConnection
    ) async throws {
        let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
            exchange: names.orderEvents, queue: names.orderEventsQueue, names: names
        )
        try await connection.declare(configuration.topology)
        for body in bodies {
            try await publish(body, label: "batch", to: names, on: connection)
        }
        var deliveries: [AMQPDelivery] = []
        while deliveries.count < bodies.count, let delivery = try await connection.get(queue: names.orderEventsQueue) {
            deliveries.append(delivery)
        }
        try #require(deliveries.count == bodies.count)
        let (_, consumer) = try makeConsumer(configuration, names: names, database: database)
        await consumer.process(deliveries, logger: TestEnvironment.logger)
    }

    /// Waits until `deliveries` have been consumed (applied, replayed or duplicate).
    static func expectConsumed(_ deliveries: Int64, in database: PostgresClient) async throws {
        let done = try await eventually(timeout: .seconds(60)) {
            let status = try await Self.status(database)
            return status.processed + status.duplicates == deliveries
        }
        let reached = try await Self.status(database)
        #expect(done, "status: \(reached)")
    }

    /// For each order: its event, the same event again (a duplicate), and a second event for it (a replay).
    static func backlog(_ orders: [OrderRecord]) throws -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        for order in orders {
            let body = try Self.body(eventID: UUID(), order: order)
            bodies += [body, body, try Self.body(eventID: UUID(), order: order)]
        }
        return bodies
    }

    /// What ``backlog(_:)`` must leave: each order once, one `applied` and one `replay` per order, two duplicates each.
    static func expectBacklogApplied(_ orders: [OrderRecord], in database: PostgresClient) async throws {
        let status = try await Self.status(database)
        #expect(status.processed == Int64(orders.count))
        #expect(status.duplicates == Int64(2 * orders.count))
        #expect(status.deadLettered == 0)
        #expect(status.replica == TableDigest(ids: orders.map(\.id)))
        let inbox = try await database.query("SELECT outcome, count(*) FROM inbox GROUP BY outcome ORDER BY outcome")
        let outcomes = try inbox.map { "\(try $0.decode(0, as: String.self))=\(try $0.decode(1, as: Int64.self))" }
        #expect(outcomes == ["applied=\(orders.count)", "replay=\(orders.count)"])
    }

    @Test("one event that cannot be applied does not hold back the rest of its batch")
    func failingEventInBatch() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let deadQueue = names.deadLetterQueue(of: names.orderEventsQueue)
            let fine = (0..<30).map { _ in Self.order() }
            let failing = Self.order(amount: OrderReplicaHandler.unprocessableAmount)
            var waiting = try fine.prefix(15).map { try Self.body(eventID: UUID(), order: $0) }
            waiting.append(try Self.body(eventID: UUID(), order: failing))
            waiting += try fine.dropFirst(15).map { try Self.body(eventID: UUID(), order: $0) }
            try await Self.withConsumer(names, database: database, connection: connection, concurrency: 1, batchSize: 50, waiting: waiting) {
                let done = try await eventually(timeout: .seconds(60)) {
                    let status = try await Self.status(database)
                    return status.deadLettered == 1 && status.processed == 30
                }
                let reached = try await Self.status(database)
                #expect(done, "status: \(reached)")
            }
            #expect(try await Self.status(database).replica == TableDigest(ids: fine.map(\.id)))
            #expect(try await database.query("SELECT count(*) FROM inbox")[0].decode(0, as: Int64.self) == 30)
            let dead = try await drainQueue(deadQueue, on: connection)
            try #require(dead.count == 1)
            #expect(dead[0].properties.headers["x-dead-letter-reason"]?.stringValue?.hasPrefix("processing-failed: ") == true)
            #expect(try await connection.messageCount(queue: names.orderEventsQueue) == 0)
        }
    }

    @Test("end to end: the relay publishes a source's outbox and the consumer replicates it, request ids and digest intact")
    func relayToConsumer() async throws {
        let names = TestEnvironment.uniqueNames()
        let amqp = try TestEnvironment.amqpConfiguration()
        try await withTestDatabase { source, _ in
            try await withTestDatabase { replica, _ in
                try await withBroker(names) { connection in
                    let orders = (0..<25).map { _ in Self.order() }
                    try await source.withTransaction { connection in
                        for (index, order) in orders.enumerated() {
                            let data = String(decoding: try JSONEncoder().encode(order), as: UTF8.self)
                            try await Outbox.append(
                                OutboxEvent(
                                    type: EventType.orderCreated.rawValue, exchange: names.orderEvents, data: data, requestId: "req-\(index)"),
                                on: connection
                            )
                        }
                    }
                    let publisher = AMQPPublisher(
                        configuration: amqp,
                        topology: ReplicationTopology.publisher(exchange: names.orderEvents, names: names),
                        logger: TestEnvironment.logger
                    )
                    let relay = OutboxRelay(
                        configuration: .init(appID: ServiceName.orderService.rawValue, pollInterval: .milliseconds(50)),
                        database: source, publisher: publisher, logger: TestEnvironment.logger
                    )
                    try await Self.withConsumer(names, database: replica, connection: connection, concurrency: 4) {
                        try await withRunning([publisher, relay]) {
                            let done = try await eventually(timeout: .seconds(60)) { try await Self.status(replica).processed == 25 }
                            let reached = try await Self.status(replica)
                            #expect(done, "status: \(reached)")
                        }
                    }
                    #expect(try await Self.status(replica).replica == TableDigest(ids: orders.map(\.id)))
                    let requestIDs = try await replica.query("SELECT id, request_id FROM replica_orders")
                    let byID = Dictionary(
                        uniqueKeysWithValues: try requestIDs.map { (try $0.decode(0, as: UUID.self), try $0.decode(1, as: String?.self)) })
                    for (index, order) in orders.enumerated() {
                        #expect(byID[order.id] == "req-\(index)")
                    }
                    let sequences = try await replica.query("SELECT source_sequence FROM inbox ORDER BY source_sequence").map {
                        try $0.decode(0, as: Int64.self)
                    }
                    #expect(sequences == Array(1...25))
                    #expect(try await OutboxBacklog.read(from: source).pending == 0)
                }
            }
        }
    }
}
