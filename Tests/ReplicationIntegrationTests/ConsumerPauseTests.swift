import AMQP
import Contract
import Foundation
import Postgres
import Retry
import TestSupport
import Testing

@testable import Replication

/// While its database cannot take events (unreachable, or refusing the consumer's statements),
/// the consumer stops consuming: the events wait ready in the queue, none is held (where the
/// broker's `consumer_timeout` and delivery limit would count it) and none is dead-lettered;
/// once the database takes them again, every event is applied.
@Suite("Consumer pauses (PostgreSQL + RabbitMQ)")
struct ConsumerPauseTests {
    /// A login role of its own on `database`'s database with the privileges a consumer needs, and
    /// a client connected as that role; the role is dropped afterwards.
    static func withConsumerRole(
        of database: PostgresClient, _ body: (PostgresClient, String) async throws -> Void
    ) async throws {
        let role = "t_consumer_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try await database.withConnection { connection in
            try await connection.execute(
                """
                CREATE ROLE \(role) LOGIN PASSWORD '\(role)';
                GRANT USAGE ON SCHEMA public TO \(role);
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role);
                GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO \(role);
                """)
        }
        let parameters = try database.configuration.connectionParameters()
        var configuration = PostgresConfiguration(
            connectionString:
                "postgres://\(role):\(role)@\(parameters["host"] ?? "127.0.0.1"):\(parameters["port"] ?? "5432")/\(parameters["dbname"] ?? "")",
            poolSize: 4)
        configuration.connectTimeout = .seconds(2)
        try await withCleanUp {
            try await TestDatabase.withClient(configuration) { client in try await body(client, role) }
        } cleanUp: {
            try await database.withConnection { connection in
                try await connection.execute("ALTER ROLE \(role) LOGIN")
                try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [role])
                try await connection.execute("DROP OWNED BY \(role); DROP ROLE \(role)")
            }
        }
    }

    /// A consumer of `names.orderEventsQueue` on `consumerDatabase` (one worker, quick retries),
    /// running for `body`, after a first event showed it applies.
    static func withRunningConsumer(
        _ names: ReplicationNames, database: PostgresClient, consumerDatabase: PostgresClient, connection: AMQPConnection,
        _ body: () async throws -> Void
    ) async throws {
        let configuration = ReplicaConsumer<OrderReplicaHandler>.Configuration(
            exchange: names.orderEvents, queue: names.orderEventsQueue, names: names, concurrency: 2, maxAttempts: 3,
            retry: Backoff(initial: .milliseconds(50), cap: .milliseconds(200)))
        try await connection.declare(configuration.topology)
        let (publisher, consumer) = try ReplicaConsumerTests.makeConsumer(configuration, names: names, database: consumerDatabase)
        try await withRunning([publisher, consumer]) {
            try await ReplicaConsumerTests.publish(
                try ReplicaConsumerTests.body(eventID: UUID(), order: ReplicaConsumerTests.order()), label: "first", to: names, on: connection)
            try await waitUntil(timeout: .seconds(30)) { try await Self.replicated(database) == 1 }
            try await body()
        }
    }

    static func replicated(_ database: PostgresClient) async throws -> Int64 {
        try await database.query("SELECT count(*) FROM replica_orders")[0].decode(0, as: Int64.self)
    }

    static func publish(_ count: Int, to names: ReplicationNames, on connection: AMQPConnection) async throws {
        for _ in 0..<count {
            try await ReplicaConsumerTests.publish(
                try ReplicaConsumerTests.body(eventID: UUID(), order: ReplicaConsumerTests.order()), label: "during", to: names, on: connection)
        }
    }

    /// While the database does not take events: longer than every attempt a consumer makes before
    /// it dead-letters, the events wait ready (no consumer holds them) and nothing is dead-lettered.
    static func expectWaitingReady(_ count: Int, _ names: ReplicationNames, database: PostgresClient, connection: AMQPConnection) async throws {
        let ready = try await eventually(timeout: .seconds(20)) {
            let counts = try await connection.counts(queue: names.orderEventsQueue)
            return counts.messages == count && counts.consumers == 0
        }
        let counts = try await connection.counts(queue: names.orderEventsQueue)
        #expect(ready, "the events wait ready in the queue, no consumer holding them: \(counts)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await connection.messageCount(queue: names.deadLetterQueue(of: names.orderEventsQueue)) == 0, "nothing dead-lettered")
        #expect(try await ReplicaConsumerTests.status(database).deadLettered == 0)
    }

    @Test("a revoked INSERT/UPDATE on the replica table stops consuming: nothing is dead-lettered, and all is applied once granted again")
    func revokedPrivilegeDeadLettersNothing() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            try await Self.withConsumerRole(of: database) { consumerDatabase, role in
                try await Self.withRunningConsumer(names, database: database, consumerDatabase: consumerDatabase, connection: connection) {
                    try await database.withConnection { try await $0.execute("REVOKE INSERT, UPDATE ON replica_orders FROM \(role)") }
                    try await Self.publish(5, to: names, on: connection)
                    try await Self.expectWaitingReady(5, names, database: database, connection: connection)
                    try await database.withConnection { try await $0.execute("GRANT INSERT, UPDATE ON replica_orders TO \(role)") }
                    try await Self.expectAllApplied(6, names, database: database, connection: connection)
                }
            }
        }
    }

    @Test("a database out of reach stops consuming: the events wait ready in the queue, none is dead-lettered, all are applied once it is back")
    func unreachableDatabaseHoldsNothing() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            try await Self.withConsumerRole(of: database) { consumerDatabase, role in
                try await Self.withRunningConsumer(names, database: database, consumerDatabase: consumerDatabase, connection: connection) {
                    // The consumer's sessions end, and no new one may start.
                    try await database.withConnection { connection in
                        try await connection.execute("ALTER ROLE \(role) NOLOGIN")
                        try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [role])
                    }
                    try await Self.publish(20, to: names, on: connection)
                    try await Self.expectWaitingReady(20, names, database: database, connection: connection)
                    try await database.withConnection { try await $0.execute("ALTER ROLE \(role) LOGIN") }
                    try await Self.expectAllApplied(21, names, database: database, connection: connection)
                }
            }
        }
    }

    /// Waits until the replica holds `count` orders and the queue is empty, and expects that
    /// nothing was dead-lettered on the way.
    static func expectAllApplied(_ count: Int64, _ names: ReplicationNames, database: PostgresClient, connection: AMQPConnection) async throws {
        try await waitUntil(timeout: .seconds(30)) { try await replicated(database) == count }
        try await waitUntil(timeout: .seconds(30)) { try await connection.messageCount(queue: names.orderEventsQueue) == 0 }
        #expect(try await connection.messageCount(queue: names.deadLetterQueue(of: names.orderEventsQueue)) == 0)
    }
}
