import AMQP
import Contract
import Foundation
import Postgres
import Replication
import TestSupport
import Testing

/// The relay publishes committed outbox rows with confirms, marks them only after
/// the broker confirmed, survives an unreachable broker without losing a row, and
/// never publishes a row twice when several relays drain one outbox.
@Suite("Outbox relay (PostgreSQL + RabbitMQ)")
struct OutboxRelayTests {
    func relay(
        _ database: PostgresClient, _ publisher: AMQPPublisher, appID: String = "customer-service", batchSize: Int = 100, concurrency: Int = 1
    ) -> OutboxRelay {
        OutboxRelay(
            configuration: .init(appID: appID, batchSize: batchSize, concurrency: concurrency, pollInterval: .milliseconds(50)),
            database: database,
            publisher: publisher,
            logger: TestEnvironment.logger
        )
    }

    func publisher(_ names: ReplicationNames, _ amqp: AMQPConfiguration) -> AMQPPublisher {
        customerEventsPublisher(names, amqp)
    }

    @Test("appended rows are published as the contract's messages, then marked published")
    func publishes() async throws {
        let names = TestEnvironment.uniqueNames()
        let watch = names.prefix + "watch"
        let amqp = try TestEnvironment.amqpConfiguration()
        try await withTestDatabase { database, _ in
            try await withBroker(names, extraQueues: [watch]) { connection in
                try await bindWatchQueue(watch, to: names.customerEvents, on: connection)
                let ids = try await appendEvents(3, exchange: names.customerEvents, to: database, requestId: "req-relay")
                let sequences = try await database.query("SELECT sequence FROM outbox ORDER BY sequence").map { try $0.decode(0, as: Int64.self) }

                let publisher = publisher(names, amqp)
                let relay = relay(database, publisher)
                try await withRunning([publisher, relay]) {
                    let drained = try await eventually { try await pendingCount(database) == 0 }
                    #expect(drained, "the relay did not publish the outbox")
                    // A row is marked only after its confirm, so its message is in the queue by now.
                    #expect(try await connection.messageCount(queue: watch) == 3)
                }

                let deliveries = try await drainQueue(watch, on: connection)
                try #require(deliveries.count == 3)
                #expect(deliveries.map(\.properties.messageID) == ids.map(\.lowercased))
                for (index, delivery) in deliveries.enumerated() {
                    let properties = delivery.properties
                    #expect(properties.contentType == "application/json")
                    #expect(properties.persistent)
                    #expect(properties.type == "customer.created")
                    #expect(properties.appID == "customer-service")
                    #expect(properties.correlationID == "req-relay")
                    #expect(properties.timestamp != nil)
                    #expect(properties.headers["x-sequence"] == .int(sequences[index]))

                    let body = String(decoding: delivery.body, as: UTF8.self)
                    #expect(body.hasSuffix(#","data":{"n": \#(index), "note": "kept verbatim"}}"#), "data is spliced verbatim: \(body)")
                    let envelope = try JSONDecoder().decode(EventEnvelope<IgnoredPayload>.self, from: Data(delivery.body))
                    #expect(envelope.eventId == ids[index])
                    #expect(envelope.type == "customer.created")
                    #expect(envelope.sequence == sequences[index])
                    #expect(envelope.requestId == "req-relay")
                }

                let backlog = try await OutboxBacklog.read(from: database)
                #expect(backlog.pending == 0)
                #expect(backlog.oldestPendingAgeMs == 0)
                #expect(backlog.lastPublishedSequence == sequences.last)
            }
        }
    }

    @Test("a row the broker refuses (its exchange does not exist) stays pending: marked only after a confirm")
    func refusedRowStaysPending() async throws {
        let names = TestEnvironment.uniqueNames()
        let amqp = try TestEnvironment.amqpConfiguration()
        try await withTestDatabase { database, _ in
            try await withBroker(names) { _ in
                try await appendEvents(2, exchange: names.prefix + "no-such-exchange", to: database)
                let publisher = publisher(names, amqp)
                let relay = relay(database, publisher)
                try await withRunning([publisher, relay]) {
                    // Bounded observation of a negative: the relay gets many tries in 1.5 s.
                    let published = try await eventually(timeout: .milliseconds(1500)) { try await pendingCount(database) < 2 }
                    #expect(!published, "a row was marked published without a confirm")
                }
                #expect(try await OutboxBacklog.read(from: database).lastPublishedSequence == 0)
            }
        }
    }

    @Test("while the broker is unreachable rows stay pending; a relay that reaches it drains them, none lost")
    func unreachableBroker() async throws {
        let names = TestEnvironment.uniqueNames()
        let watch = names.prefix + "watch"
        let amqp = try TestEnvironment.amqpConfiguration()
        var unreachable = amqp
        unreachable.endpoints = [.init(host: "127.0.0.1", port: try freePort())]
        unreachable.reconnectInitialDelay = .milliseconds(20)
        try await withTestDatabase { database, _ in
            try await withBroker(names, extraQueues: [watch]) { connection in
                try await bindWatchQueue(watch, to: names.customerEvents, on: connection)
                let ids = try await appendEvents(50, exchange: names.customerEvents, to: database)

                let deadPublisher = publisher(names, unreachable)
                let deadRelay = relay(database, deadPublisher, batchSize: 20)
                try await withRunning([deadPublisher, deadRelay]) {
                    // Writes go on while the broker is away.
                    try await appendEvents(10, exchange: names.customerEvents, to: database)
                    let published = try await eventually(timeout: .milliseconds(1500)) { try await pendingCount(database) < 60 }
                    #expect(!published, "rows were marked published although no broker was reachable")
                    #expect(!deadPublisher.isConnected)
                }
                #expect(try await pendingCount(database) == 60)
                #expect(try await connection.messageCount(queue: watch) == 0)

                let publisher = publisher(names, amqp)
                let relay = relay(database, publisher, batchSize: 20)
                try await withRunning([publisher, relay]) {
                    let drained = try await eventually { try await pendingCount(database) == 0 }
                    #expect(drained, "the outbox did not drain once the broker was reachable")
                }
                let deliveries = try await drainQueue(watch, on: connection)
                let received = deliveries.compactMap(\.properties.messageID)
                let appended = try await database.query("SELECT event_id FROM outbox ORDER BY sequence").map { try $0.decode(0, as: UUID.self) }
                #expect(appended.count == 60)
                #expect(Array(appended.prefix(50)) == ids)
                #expect(received == appended.map(\.lowercased), "every row published once, in sequence order")
            }
        }
    }

    @Test("two relays with two batches in flight each publish every row of one backlog exactly once (FOR UPDATE SKIP LOCKED)")
    func twoRelaysExactlyOnce() async throws {
        let names = TestEnvironment.uniqueNames()
        let watch = names.prefix + "watch"
        let amqp = try TestEnvironment.amqpConfiguration()
        let rows = 2_000
        try await withTestDatabase { database, configuration in
            try await withBroker(names, extraQueues: [watch]) { connection in
                try await bindWatchQueue(watch, to: names.customerEvents, on: connection)
                let ids = try await appendEvents(rows, exchange: names.customerEvents, to: database)

                // Two instances: each its own pool and its own broker connection.
                try await TestDatabase.withClient(configuration) { otherDatabase in
                    let publisherA = publisher(names, amqp)
                    let publisherB = publisher(names, amqp)
                    let relayA = relay(database, publisherA, appID: "relay-a", batchSize: 25, concurrency: 2)
                    let relayB = relay(otherDatabase, publisherB, appID: "relay-b", batchSize: 25, concurrency: 2)
                    try await withRunning([publisherA, publisherB]) {
                        // Connected before the relays start, so both compete from the first batch.
                        try await publisherA.publish([])
                        try await publisherB.publish([])
                        try await withRunning([relayA, relayB]) {
                            let drained = try await eventually(timeout: .seconds(60)) { try await pendingCount(database) == 0 }
                            #expect(drained, "the backlog did not drain")
                        }
                    }
                }

                let deliveries = try await drainQueue(watch, on: connection)
                let messageIDs = deliveries.compactMap(\.properties.messageID)
                var seen: [String: Int] = [:]
                for id in messageIDs { seen[id, default: 0] += 1 }
                let duplicates = seen.filter { $0.value > 1 }
                let missing = Set(ids.map(\.lowercased)).subtracting(seen.keys)
                #expect(messageIDs.count == rows)
                #expect(duplicates.isEmpty, "published more than once: \(duplicates.prefix(5))")
                #expect(missing.isEmpty, "never published: \(missing.prefix(5))")

                // Both relays took part, otherwise this test would not have tested concurrency.
                let byRelay = Dictionary(grouping: deliveries, by: { $0.properties.appID ?? "" }).mapValues(\.count)
                #expect((byRelay["relay-a"] ?? 0) > 0 && (byRelay["relay-b"] ?? 0) > 0, "published per relay: \(byRelay)")
            }
        }
    }
}
