import AMQP
import Contract
import Foundation
import Postgres
import Replication
import TestSupport
import Testing

extension TestEnvironment {
    /// Broker names no other test uses: `t-<id>.customer.events`, ...
    static func uniqueNames() -> ReplicationNames {
        ReplicationNames(prefix: "t-\(uniqueID()).")
    }
}

// MARK: PostgreSQL

/// Test tables of a subscribing service: its replica and its own (source) table.
let testTableMigrations = [
    Migration(
        version: ReplicationSchema.firstServiceVersion,
        name: "test tables",
        sql: """
            CREATE TABLE replica_orders (
                id uuid PRIMARY KEY,
                customer_id uuid NOT NULL,
                amount bigint NOT NULL,
                event_id uuid NOT NULL,
                request_id text,
                deleted_at timestamptz,
                epoch bigint NOT NULL DEFAULT 1
            );
            CREATE TABLE customers (id uuid PRIMARY KEY);
            """
    )
]

/// A test database (``TestDatabase``), with the replication schema and the test tables unless
/// `migrate` is false, and a client on it; `body` gets the client and the configuration.
func withTestDatabase<T: Sendable>(
    poolSize: Int = 8,
    migrate: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (PostgresClient, PostgresConfiguration) async throws -> T
) async throws -> T {
    let migrations = migrate ? ReplicationSchema.migrations + testTableMigrations : []
    return try await TestDatabase.withTestDatabase(poolSize: poolSize, migrations: migrations, sourceLocation: sourceLocation) { configuration in
        try await TestDatabase.withClient(configuration) { client in try await body(client, configuration) }
    }
}

/// Appends `count` events for `exchange` in one committed transaction; returns their ids in sequence order.
@discardableResult
func appendEvents(_ count: Int, exchange: String, to database: PostgresClient, requestId: String? = "req-test") async throws -> [UUID] {
    try await database.withTransaction { connection in
        var ids: [UUID] = []
        for index in 0..<count {
            let event = OutboxEvent(
                type: EventType.customerCreated.rawValue,
                exchange: exchange,
                data: #"{"n": \#(index), "note": "kept verbatim"}"#,
                requestId: requestId
            )
            try await Outbox.append(event, on: connection)
            ids.append(event.eventId)
        }
        return ids
    }
}

/// Rows in the outbox that are not published yet.
func pendingCount(_ database: PostgresClient) async throws -> Int64 {
    try await database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].decode(0)
}

// MARK: RabbitMQ

/// Runs `body` with a connection, then always deletes every exchange and queue that `names`
/// can name (and `extraQueues`).
func withBroker<T>(
    _ names: ReplicationNames,
    extraQueues: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (AMQPConnection) async throws -> T
) async throws -> T {
    let queues = [names.customerEventsQueue, names.orderEventsQueue].flatMap { [$0, names.deadLetterQueue(of: $0)] } + extraQueues
    let exchanges = [names.customerEvents, names.orderEvents, names.deadLetterExchange]
    return try await withBrokerObjects(queues: queues, exchanges: exchanges, sourceLocation: sourceLocation, body)
}

/// A migrated test database and a broker connection, for `names` unique to this test
/// (``withTestDatabase(poolSize:migrate:sourceLocation:_:)`` and ``withBroker(_:extraQueues:sourceLocation:_:)``);
/// `extraQueues` are names after the test's prefix, deleted at the end too.
func withDatabaseAndBroker(
    extraQueues: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (ReplicationNames, PostgresClient, AMQPConnection) async throws -> Void
) async throws {
    let names = TestEnvironment.uniqueNames()
    try await withTestDatabase(sourceLocation: sourceLocation) { database, _ in
        try await withBroker(names, extraQueues: extraQueues.map { names.prefix + $0 }, sourceLocation: sourceLocation) { connection in
            try await body(names, database, connection)
        }
    }
}

/// A publisher to `names.customerEvents`, as CustomerService's relay has.
func customerEventsPublisher(_ names: ReplicationNames, _ amqp: AMQPConfiguration) -> AMQPPublisher {
    AMQPPublisher(
        configuration: amqp,
        topology: ReplicationTopology.publisher(exchange: names.customerEvents, names: names),
        logger: TestEnvironment.logger
    )
}

/// A durable queue bound to the fanout `exchange` (declared too), to watch what is published there.
func bindWatchQueue(_ queue: String, to exchange: String, on connection: AMQPConnection) async throws {
    try await connection.declare(
        AMQPTopology(
            exchanges: [.init(name: exchange, kind: .fanout)],
            queues: [.quorum(name: queue)],
            bindings: [.init(queue: queue, exchange: exchange)]
        )
    )
}

/// Takes every ready message out of `queue` with basic.get (they are deleted with the queue).
func drainQueue(_ queue: String, on connection: AMQPConnection) async throws -> [AMQPDelivery] {
    var deliveries: [AMQPDelivery] = []
    while let delivery = try await connection.get(queue: queue) {
        deliveries.append(delivery)
    }
    return deliveries
}
