import AMQP
import Contract
import Foundation
import Postgres
import Retry
import ServiceLifecycle
import TestSupport
import Testing

@testable import Replication

/// The guarantees under faults, each shown against the real servers: an event waits for its
/// first subscriber instead of being lost, a row the broker refuses is parked while later rows
/// flow, a transient database error never dead-letters a good event, and a dead-letter queue
/// that went away is declared again instead of holding its poison (and its batch) for ever.
@Suite("Fault tolerance (PostgreSQL + RabbitMQ)")
struct FaultToleranceTests {
    static func relay(
        _ database: PostgresClient, _ publisher: AMQPPublisher, maxAttempts: Int = 5
    ) -> OutboxRelay {
        OutboxRelay(
            configuration: .init(
                appID: "customer-service", pollInterval: .milliseconds(50), retry: Backoff(initial: .milliseconds(10), cap: .milliseconds(100)),
                maxAttempts: maxAttempts),
            database: database,
            publisher: publisher,
            logger: TestEnvironment.logger
        )
    }

    static func publisher(_ names: ReplicationNames) throws -> AMQPPublisher {
        customerEventsPublisher(names, try TestEnvironment.amqpConfiguration())
    }

    /// The consumer of `names.orderEventsQueue`, retrying quickly; its topology declared on `connection`.
    static func consumerConfiguration(
        _ names: ReplicationNames, on connection: AMQPConnection
    ) async throws -> ReplicaConsumer<OrderReplicaHandler>.Configuration {
        let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
            exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, concurrency: 2,
            retry: Backoff(initial: .milliseconds(50), cap: .milliseconds(200))
        )
        try await connection.declare(configuration.topology)
        return configuration
    }

    @Test("events published before the subscriber's queue exists wait in the outbox (mandatory), then reach it")
    func eventsWaitForTheirFirstSubscriber() async throws {
        try await withDatabaseAndBroker(extraQueues: ["late-subscriber"]) { names, database, connection in
            let queue = names.prefix + "late-subscriber"
            let ids = try await appendEvents(5, exchange: names.customerEvents, to: database)
            let publisher = try Self.publisher(names)
            try await withRunning([publisher, Self.relay(database, publisher)]) {
                // Bounded observation of a negative: the relay gets many tries in 1.5 s.
                let marked = try await eventually(timeout: .milliseconds(1500)) { try await pendingCount(database) < 5 }
                #expect(!marked, "an event no queue took was marked published: lost for the subscriber that comes later")
                try await bindWatchQueue(queue, to: names.customerEvents, on: connection)
                let drained = try await eventually { try await pendingCount(database) == 0 }
                #expect(drained, "the events did not flow once the subscriber's queue existed")
            }
            let received = try await drainQueue(queue, on: connection).compactMap(\.properties.messageID)
            #expect(received == ids.map(\.lowercased), "every event reached the late subscriber once, in order")
        }
    }

    @Test("a row the broker refuses every time (over max_message_size) is parked with its reason; later rows flow; retry gives it back")
    func refusedRowIsParked() async throws {
        try await withDatabaseAndBroker(extraQueues: ["watch"]) { names, database, connection in
            let watch = names.prefix + "watch"
            try await bindWatchQueue(watch, to: names.customerEvents, on: connection)
            let before = try await appendEvents(2, exchange: names.customerEvents, to: database)
            // Larger than the local broker's max_message_size (1 MiB, scripts/local-servers).
            let huge = OutboxEvent(
                type: EventType.customerCreated.rawValue, exchange: names.customerEvents,
                data: #"{"blob":""# + String(repeating: "x", count: 1_200_000) + #""}"#, requestId: nil)
            _ = try await database.withTransaction { try await Outbox.append(huge, on: $0) }
            let after = try await appendEvents(3, exchange: names.customerEvents, to: database)

            let publisher = try Self.publisher(names)
            try await withRunning([publisher, Self.relay(database, publisher, maxAttempts: 2)]) {
                let settled = try await eventually {
                    let backlog = try await OutboxBacklog.read(from: database)
                    return backlog.pending == 0 && backlog.parked == 1
                }
                let backlog = try await OutboxBacklog.read(from: database)
                #expect(settled, "backlog: \(backlog)")
            }
            let received = try await drainQueue(watch, on: connection).compactMap(\.properties.messageID)
            #expect(Set(received) == Set((before + after).map(\.lowercased)), "the rows around the refused one flowed")
            #expect(!received.contains(huge.eventId.lowercased))

            let parked = try await database.query("SELECT event_id, attempts, last_error FROM outbox WHERE parked_at IS NOT NULL")
            try #require(parked.count == 1)
            #expect(try parked[0].decode(0, as: UUID.self) == huge.eventId)
            #expect(try parked[0].decode(1, as: Int32.self) == 2)
            #expect(try parked[0].decode(2, as: String.self).contains("406"), "the broker's reason is kept on the row")

            #expect(try await Outbox.retryParked(on: database) == 1)
            let backlog = try await OutboxBacklog.read(from: database)
            #expect(backlog.parked == 0 && backlog.pending == 1, "the row is the relay's again: \(backlog)")
        }
    }

    @Test("a replica table locked past the statement timeout delays its events; none is dead-lettered")
    func lockedReplicaTableDeadLettersNothing() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            try await withTestDatabaseClient(of: database, statementTimeout: .milliseconds(300)) { impatient in
                let configuration = try await Self.consumerConfiguration(names, on: connection)
                let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: impatient)
                try await withRunning([publisher, consumer]) {
                    let orders = (0..<3).map { _ in ReplicaConsumerTests.order() }
                    try await database.withTransaction { locker in
                        try await locker.execute("LOCK TABLE replica_orders IN ACCESS EXCLUSIVE MODE")
                        for order in orders {
                            try await ReplicaConsumerTests.publish(
                                try ReplicaConsumerTests.body(eventID: UUID(), order: order), label: "locked", to: names, on: connection)
                        }
                        // Longer than five attempts at 300 ms each with their backoff.
                        try await locker.query("SELECT pg_sleep(4)")
                    }
                    let applied = try await eventually { try await ReplicaConsumerTests.status(database).processed == 3 }
                    #expect(applied, "the events were not applied after the lock was released")
                }
                #expect(try await ReplicaConsumerTests.status(database).deadLettered == 0)
                #expect(try await connection.messageCount(queue: names.deadLetterQueue(of: names.orderEventsQueue)) == 0)
            }
        }
    }

    /// Rolls back the transaction that holds a row's lock.
    struct ReleaseTheLock: Error {}

    @Test("a row locked past the statement timeout holds back its own event only, not the rest of its batch")
    func lockedRowHoldsOneEvent() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            try await withTestDatabaseClient(of: database, statementTimeout: .milliseconds(1500)) { impatient in
                let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
                    exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, concurrency: 1,
                    retry: Backoff(initial: .milliseconds(50), cap: .milliseconds(200)))
                try await connection.declare(configuration.topology)
                let locked = ReplicaConsumerTests.order()
                let others = (0..<3).map { _ in ReplicaConsumerTests.order() }
                // The first event takes its worker (the only one) a second; the others arrive meanwhile and
                // wait, so that the worker takes them next as one batch.
                let slow = ReplicaConsumerTests.order(amount: OrderReplicaHandler.secondAmount)
                for order in [slow, locked] + others {
                    try await ReplicaConsumerTests.publish(
                        try ReplicaConsumerTests.body(eventID: UUID(), order: order), label: "batch", to: names, on: connection)
                }
                let othersApplied = try await withRolledBackTransaction(database) { locker in
                    // An insert of the same id, not committed: the consumer's insert waits for it.
                    try await locker.query(
                        "INSERT INTO replica_orders (id, customer_id, amount, event_id) VALUES ($1, $2, 1, $3)",
                        [locked.id, locked.customerId, UUID()])
                    let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: impatient)
                    return try await withRunning([publisher, consumer]) {
                        try await eventually(timeout: .seconds(20)) {
                            try await database.query("SELECT count(*) FROM replica_orders WHERE id = ANY($1::uuid[])", [others.map(\.id)])[0]
                                .decode(0, as: Int64.self) == 3
                        }
                    }
                }
                #expect(othersApplied, "the other events of the batch were applied while one row was locked")
                let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: impatient)
                try await withRunning([publisher, consumer]) {
                    try await waitUntil(timeout: .seconds(30)) {
                        try await database.query("SELECT amount FROM replica_orders WHERE id = $1", [locked.id]).first?
                            .decode(0, as: Int64.self) == locked.amount
                    }
                }
                #expect(try await ReplicaConsumerTests.status(database).deadLettered == 0)
                #expect(try await connection.messageCount(queue: names.deadLetterQueue(of: names.orderEventsQueue)) == 0)
            }
        }
    }

    /// Runs `body` in a transaction on `database` that is rolled back afterwards; returns what `body` returned.
    func withRolledBackTransaction<T: Sendable>(_ database: PostgresClient, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        var result: T?
        do {
            try await database.withTransaction { locker in
                result = try await body(locker)
                throw ReleaseTheLock()
            }
        } catch is ReleaseTheLock {}
        return result!
    }

    @Test("a missing dead-letter queue is declared again: the poison arrives there with its reason, and the good events of its batch are applied")
    func missingDeadLetterQueueIsDeclaredAgain() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let deadQueue = names.deadLetterQueue(of: names.orderEventsQueue)
            // One worker: the poison and the good events share it, and its batches.
            let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
                exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, concurrency: 1,
                retry: Backoff(initial: .milliseconds(50), cap: .milliseconds(200)))
            try await connection.declare(configuration.topology)
            let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: database)
            try await withRunning([publisher, consumer]) {
                // Once the consumer is connected (it declares its topology then), the dead-letter queue goes away.
                try await ReplicaConsumerTests.publish(
                    try ReplicaConsumerTests.body(eventID: UUID(), order: ReplicaConsumerTests.order()), label: "first", to: names, on: connection)
                try await waitUntil(timeout: .seconds(30)) { try await ReplicaConsumerTests.status(database).processed == 1 }
                _ = try await connection.delete(queue: deadQueue)
                try await ReplicaConsumerTests.publish(Array("not JSON".utf8), label: "poison", to: names, on: connection)
                for _ in 0..<3 {
                    try await ReplicaConsumerTests.publish(
                        try ReplicaConsumerTests.body(eventID: UUID(), order: ReplicaConsumerTests.order()), label: "good", to: names, on: connection)
                }
                let settled = try await eventually(timeout: .seconds(30)) {
                    let status = try await ReplicaConsumerTests.status(database)
                    return status.processed == 4 && status.deadLettered == 1
                }
                #expect(settled, "the good events applied, the poison in the dead-letter queue declared again")
            }
            let dead = try await drainQueue(deadQueue, on: connection)
            try #require(dead.count == 1)
            #expect(dead[0].properties.headers["x-dead-letter-reason"]?.stringValue?.hasPrefix("invalid-json: ") == true)
            #expect(try await connection.messageCount(queue: names.orderEventsQueue) == 0)
        }
    }
}

extension FaultToleranceTests {
    @Test("at graceful shutdown the batch in flight finishes and is acked before the connection closes")
    func shutdownFinishesTheBatchInFlight() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let configuration = try await Self.consumerConfiguration(names, on: connection)
            let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: database)
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: publisher), .init(service: consumer)], logger: TestEnvironment.logger))
            let running = Task { try await group.run() }
            let order = ReplicaConsumerTests.order(amount: OrderReplicaHandler.secondAmount)
            try await ReplicaConsumerTests.publish(
                try ReplicaConsumerTests.body(eventID: UUID(), order: order), label: "in-flight", to: names, on: connection)
            let applying = try await eventually {
                try await database.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(1)'"
                )[0].decode(0, as: Int64.self) == 1
            }
            try #require(applying, "the consumer never started the event")
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(try await ReplicaConsumerTests.status(database).processed == 1, "the batch in flight was applied")
            #expect(try await connection.messageCount(queue: names.orderEventsQueue) == 0, "and acked before the connection closed")
        }
    }
}

/// A second client on `database`'s database whose statements time out after `statementTimeout`.
func withTestDatabaseClient<T: Sendable>(
    of database: PostgresClient, statementTimeout: Duration, _ body: (PostgresClient) async throws -> T
) async throws -> T {
    var configuration = database.configuration
    configuration.statementTimeout = statementTimeout
    return try await TestDatabase.withClient(configuration, body)
}
