import Foundation
import Postgres
import TestSupport
import Testing

@testable import Replication

/// What only grows is pruned: published outbox rows, inbox rows and idempotency keys past their
/// retention go, in batches; pending rows, the last outbox row and recent rows stay; and
/// deduplication holds without the inbox row.
@Suite("Retention (PostgreSQL + RabbitMQ)")
struct RetentionTests {
    static func counts(_ database: PostgresClient) async throws -> [String: Int64] {
        let row = try await database.query(
            "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM inbox), (SELECT count(*) FROM idempotency_keys)")[0]
        return ["outbox": try row.decode(0), "inbox": try row.decode(1), "idempotency_keys": try row.decode(2)]
    }

    @Test("rows past their retention are deleted in batches; pending outbox rows, the last outbox row and recent rows stay")
    func prunes() async throws {
        try await withTestDatabase { database, _ in
            try await database.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO outbox (event_id, event_type, exchange, payload, published_at)
                        SELECT gen_random_uuid(), 'customer.created', 'x', '{}', clock_timestamp() - interval '1 hour'
                        FROM generate_series(1, 2500);
                    INSERT INTO outbox (event_id, event_type, exchange, payload)
                        SELECT gen_random_uuid(), 'customer.created', 'x', '{}' FROM generate_series(1, 3);
                    INSERT INTO outbox (event_id, event_type, exchange, payload, published_at)
                        VALUES (gen_random_uuid(), 'customer.created', 'x', '{}', clock_timestamp() - interval '1 hour');
                    INSERT INTO inbox (event_id, event_type, source_sequence, outcome, processed_at)
                        SELECT gen_random_uuid(), 'order.created', n, 'applied', clock_timestamp() - interval '1 hour'
                        FROM generate_series(1, 1500) AS n;
                    INSERT INTO inbox (event_id, event_type, source_sequence, outcome)
                        SELECT gen_random_uuid(), 'order.created', n, 'applied' FROM generate_series(1, 2) AS n;
                    INSERT INTO idempotency_keys (key, operation, request_fingerprint, created_at)
                        SELECT 'old-' || n, 'createCustomer', 'f', clock_timestamp() - interval '2 days' FROM generate_series(1, 10) AS n;
                    INSERT INTO idempotency_keys (key, operation, request_fingerprint) VALUES ('recent', 'createCustomer', 'f');
                    """)
            }
            let retention = Retention(
                configuration: .init(outbox: .seconds(60), inbox: .seconds(60), idempotencyKeys: .seconds(86_400), resyncJobs: nil, batchSize: 1000),
                database: database, logger: TestEnvironment.logger)
            #expect(try await retention.prune() == ["outbox": 2500, "inbox": 1500, "idempotency_keys": 10])
            #expect(try await Self.counts(database) == ["outbox": 4, "inbox": 2, "idempotency_keys": 1])
            let pending = try await database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].decode(0, as: Int64.self)
            #expect(pending == 3, "unpublished rows are never pruned")
            #expect(try await retention.prune() == ["outbox": 0, "inbox": 0, "idempotency_keys": 0])
        }
    }

    @Test("a duplicate of an event whose inbox row was pruned still changes nothing")
    func duplicateAfterPruning() async throws {
        try await withDatabaseAndBroker { names, database, connection in
            let order = ReplicaConsumerTests.order()
            let eventID = UUID()
            let body = try ReplicaConsumerTests.body(eventID: eventID, order: order)
            try await ReplicaConsumerTests.withConsumer(names, database: database, connection: connection, concurrency: 1) {
                try await ReplicaConsumerTests.publish(body, label: "first", to: names, on: connection)
                try await waitUntil { try await ReplicaConsumerTests.status(database).processed == 1 }
                let retention = Retention(
                    configuration: .init(outbox: nil, inbox: .zero, idempotencyKeys: nil, resyncJobs: nil), database: database,
                    logger: TestEnvironment.logger)
                #expect(try await retention.prune() == ["inbox": 1])
                try await ReplicaConsumerTests.publish(body, label: "again", to: names, on: connection)
                try await waitUntil { try await ReplicaConsumerTests.status(database).duplicates == 1 }
            }
            let rows = try await database.query("SELECT event_id FROM replica_orders")
            #expect(rows.count == 1)
            #expect(try rows[0].decode(0, as: UUID.self) == eventID, "the replica row is the first event's, unchanged")
        }
    }
}
