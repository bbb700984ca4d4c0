import AMQP
import Contract
import Foundation
import Postgres
import Replication
import Retry
import TestSupport
import Testing

/// A refusal by the broker parks only the row that caused it, and only when it is the row's:
/// an oversize row's 406 closes the channel that a batch beside it shares, and a queue at its
/// length limit nacks good rows for as long as it is full.
@Suite("Outbox refusals (PostgreSQL + RabbitMQ)")
struct OutboxRefusalTests {
    static func relay(_ database: PostgresClient, _ publisher: AMQPPublisher, concurrency: Int, batchSize: Int, maxAttempts: Int) -> OutboxRelay {
        OutboxRelay(
            configuration: .init(
                appID: "customer-service", batchSize: batchSize, concurrency: concurrency, pollInterval: .milliseconds(20),
                retry: Backoff(initial: .milliseconds(10), cap: .milliseconds(100)), maxAttempts: maxAttempts),
            database: database, publisher: publisher, logger: TestEnvironment.logger)
    }

    /// Appends `count` events of about 30 KB each (publishing a batch of them takes a while, so the
    /// relay's two batches are in flight together often); returns their ids.
    static func appendLargeEvents(_ count: Int, exchange: String, to database: PostgresClient) async throws -> [UUID] {
        try await database.withTransaction { connection in
            var ids: [UUID] = []
            for _ in 0..<count {
                let event = OutboxEvent(
                    type: EventType.customerCreated.rawValue, exchange: exchange,
                    data: #"{"pad":""# + String(repeating: "p", count: 30_000) + #""}"#, requestId: nil)
                try await Outbox.append(event, on: connection)
                ids.append(event.eventId)
            }
            return ids
        }
    }

    @Test("with two batches in flight, oversize rows are parked alone; every row beside them is published")
    func oversizeRowsParkAlone() async throws {
        try await withDatabaseAndBroker(extraQueues: ["watch"]) { names, database, connection in
            let watch = names.prefix + "watch"
            try await bindWatchQueue(watch, to: names.customerEvents, on: connection)
            // Oversize rows (over the local broker's 1 MiB max_message_size) in the middle of the
            // backlog: both workers are draining when each comes up.
            var good = try await Self.appendLargeEvents(200, exchange: names.customerEvents, to: database)
            var oversize: [UUID] = []
            for _ in 0..<10 {
                let huge = OutboxEvent(
                    type: EventType.customerCreated.rawValue, exchange: names.customerEvents,
                    data: #"{"blob":""# + String(repeating: "x", count: 1_200_000) + #""}"#, requestId: nil)
                _ = try await database.withTransaction { try await Outbox.append(huge, on: $0) }
                oversize.append(huge.eventId)
                good += try await Self.appendLargeEvents(60, exchange: names.customerEvents, to: database)
            }
            let publisher = customerEventsPublisher(names, try TestEnvironment.amqpConfiguration())
            // One refusal parks a row: a row that another batch's 406 failed would be parked too.
            let relay = Self.relay(database, publisher, concurrency: 2, batchSize: 20, maxAttempts: 1)
            try await withRunning([publisher, relay]) {
                let settled = try await eventually(timeout: .seconds(60)) { try await OutboxBacklog.read(from: database).pending == 0 }
                let backlog = try await OutboxBacklog.read(from: database)
                #expect(settled, "backlog: \(backlog)")
                let parked = try await database.query("SELECT event_id FROM outbox WHERE parked_at IS NOT NULL").map {
                    try $0.decode(0, as: UUID.self)
                }
                #expect(Set(parked) == Set(oversize), "parked: \(parked.count) rows, \(Set(parked).subtracting(oversize).count) of them good")
            }
            let received = Set(try await drainQueue(watch, on: connection).compactMap(\.properties.messageID))
            let missing = Set(good.map(\.lowercased)).subtracting(received)
            #expect(missing.isEmpty, "\(missing.count) good rows never published")
        }
    }

    @Test(
        "a queue at its length limit that nacks (reject-publish) parks nothing after more refusals than the attempts; everything is published after")
    func backPressureParksNothing() async throws {
        try await withDatabaseAndBroker(extraQueues: ["bounded"]) { names, database, connection in
            let bounded = names.prefix + "bounded"
            try await connection.declare(
                AMQPTopology(
                    exchanges: [.init(name: names.customerEvents, kind: .fanout)],
                    queues: [.init(name: bounded, arguments: ["x-max-length": 2, "x-overflow": "reject-publish"])],
                    bindings: [.init(queue: bounded, exchange: names.customerEvents)]))
            for _ in 0..<2 {
                try await connection.publish(AMQPMessage(exchange: "", routingKey: bounded, body: Array("filler".utf8)))
            }
            let ids = try await appendEvents(5, exchange: names.customerEvents, to: database)
            let publisher = customerEventsPublisher(names, try TestEnvironment.amqpConfiguration())
            let relay = Self.relay(database, publisher, concurrency: 1, batchSize: 100, maxAttempts: 2)
            try await withRunning([publisher, relay]) {
                // Refused more often than the attempts that park a row refused by a closed channel.
                try await waitUntil(timeout: .seconds(60), pollEvery: .milliseconds(100)) {
                    try await database.query("SELECT min(attempts) FROM outbox")[0].decode(0, as: Int32?.self) ?? 0 > 2
                }
                #expect(try await OutboxBacklog.read(from: database).parked == 0, "a row was parked while its queue was only full")

                // The subscriber catches up: the queue takes the rows as it drains.
                var received: [String] = []
                let drained = try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(20)) {
                    received += try await drainQueue(bounded, on: connection).compactMap(\.properties.messageID)
                    return try await OutboxBacklog.read(from: database).pending == 0
                }
                received += try await drainQueue(bounded, on: connection).compactMap(\.properties.messageID)
                let backlog = try await OutboxBacklog.read(from: database)
                #expect(drained, "backlog: \(backlog)")
                #expect(Set(ids.map(\.lowercased)).isSubset(of: received), "received \(received.count) events")
                #expect(backlog.parked == 0)
            }
        }
    }
}
