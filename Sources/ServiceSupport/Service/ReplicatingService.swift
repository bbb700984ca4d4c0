import AMQP
import Contract
import Hummingbird
import Logging
import Postgres
import Replication

/// What makes one replicating service different from the other: its tables, its exchange,
/// its subscription and its HTTP API. ``build(configuration:logger:onServerRunning:)`` wires
/// the rest the same way for both.
public struct ReplicatingService<Own: StoredRecord, Replica: StoredRecord> {
    /// The subscription to the peer's events.
    public struct Subscription {
        /// The peer's fanout exchange.
        public var exchange: KeyPath<ReplicationNames, String>
        /// The service's queue bound to it.
        public var queue: KeyPath<ReplicationNames, String>

        /// The subscription to `exchange` through `queue`.
        public init(exchange: KeyPath<ReplicationNames, String>, queue: KeyPath<ReplicationNames, String>) {
            self.exchange = exchange
            self.queue = queue
        }
    }

    /// Makes the service's router (shared middleware and its API) from the change log its
    /// repository writes through and the replica it reads.
    public typealias API = (ChangeLog, ReplicaTable<Replica>, Logger) throws -> Router<BasicRequestContext>

    /// The service's own migrations (after the shared replication tables).
    public var migrations: [Migration]
    /// The table of the records the service owns (what its peer replicates).
    public var ownTable: String
    /// The tombstones of its deleted records, if it deletes any.
    public var tombstoneTable: String?
    /// The exchange its events go to.
    public var exchange: KeyPath<ReplicationNames, String>
    /// Where the peer's events come from.
    public var subscription: Subscription
    /// The replica of the peer's records.
    public var replica: ReplicaTable<Replica>
    /// The HTTP API.
    public var api: API

    /// Describes a service.
    public init(
        migrations: [Migration], owns: Own.Type, ownTable: String, tombstoneTable: String? = nil, exchange: KeyPath<ReplicationNames, String>,
        subscription: Subscription, replica: ReplicaTable<Replica>, api: @escaping API
    ) {
        self.migrations = migrations
        self.ownTable = ownTable
        self.tombstoneTable = tombstoneTable
        self.exchange = exchange
        self.subscription = subscription
        self.replica = replica
        self.api = api
    }

    /// Builds the service: migrates its database, and returns the application that serves HTTP,
    /// publishes its outbox and applies its subscription to the replica.
    ///
    /// - Parameters:
    ///   - logger: the service's logger; by default made from the configuration (`LOG_LEVEL`).
    ///   - listening: who learns the listeners' ports once they are bound.
    public func build(
        configuration: ServiceConfiguration, logger: Logger? = nil, listening: ServiceListening = ServiceListening()
    ) async throws -> some ApplicationProtocol {
        let logger = logger ?? configuration.makeLogger()
        let names = configuration.names
        ServiceMetrics.bootstrap()

        // The database pool, with the schema migrated (start-up waits for the database).
        let database = try await ServiceDatabase.connect(
            configuration.database, migrations: migrations, retry: configuration.retry, logger: logger
        )
        // Events go out through the outbox: the publisher, the relay that feeds it, and the change
        // log in which the repository records each change with its event.
        let publisher = AMQPPublisher(
            configuration: configuration.amqp,
            topology: ReplicationTopology.publisher(exchange: names[keyPath: exchange], names: names),
            logger: logger
        )
        var relayConfiguration = configuration.relay
        // A service that deletes erases a deleted record's earlier events (docs/design.md#erasure).
        relayConfiguration.erasingEvents = Own.deletedEvent.map { [$0.rawValue] } ?? []
        let relay = OutboxRelay(configuration: relayConfiguration, database: database, publisher: publisher, logger: logger)
        let changes = ChangeLog(database: database, exchange: names[keyPath: exchange], relay: relay)
        // The peer's events come in through the subscription, into the replica.
        let consumer = ReplicaConsumer(
            configuration: configuration.consumer(of: names[keyPath: subscription.exchange], through: names[keyPath: subscription.queue]),
            amqp: configuration.amqp, database: database, publisher: publisher, handler: replica, logger: logger
        )
        // What only grows (published outbox rows, inbox rows, idempotency keys) is pruned.
        var retentionConfiguration = configuration.retention
        retentionConfiguration.erasingEvents = relayConfiguration.erasingEvents
        let retention = Retention(configuration: retentionConfiguration, database: database, logger: logger)
        // Resyncs send the own records' current state straight to one subscriber's queue.
        let exchangeName = ReplicationNames()[keyPath: exchange]
        let resync = Resync<Own>(
            configuration: .init(
                table: ownTable, tombstones: tombstoneTable, queue: { names.queue(of: $0, forExchangeNamed: exchangeName) },
                appID: configuration.relay.appID, userID: configuration.relay.userID, subscribers: configuration.resyncSubscribers),
            database: database, publisher: publisher, amqp: configuration.amqp, logger: logger)
        try await resync.failInterrupted()
        // The dead-letter queue, managed through the operations endpoints; the status reads both queues' depths.
        let deadLetters = DeadLetters(
            queue: names[keyPath: subscription.queue], deadLetterQueue: names.deadLetterQueue(of: names[keyPath: subscription.queue]),
            amqp: configuration.amqp, logger: logger)
        let queueDepths = QueueDepths(of: deadLetters)
        // The HTTP API with the health probes on the public listener; every operation on the admin listener.
        let operations = OperationsHandler(
            service: configuration.service.rawValue, database: database, publisher: publisher,
            records: [
                .own: .own(table: ownTable, tombstones: tombstoneTable, content: RecordVersions.content(of: Own.self)),
                .replica: .replica(table: replica.name, content: RecordVersions.content(of: Replica.self)),
            ],
            resync: resync, deadLetters: deadLetters,
            status: StatusCache { [database, ownTable, replica, queueDepths] in
                async let queues = queueDepths.read()
                var status = try await ReplicationStatus.read(from: database, replicaTable: replica.name, sourceTable: ownTable)
                status.queues = await queues
                return status
            },
            digests: DigestCache(), trace: Trace(service: configuration.service.rawValue, database: database, deadLetters: deadLetters))
        let router = try api(changes, replica, logger)
        try OperationsListener.addHealth(operations, to: router)
        let admin = Application(
            router: try OperationsListener.adminRouter(operations, token: configuration.admin.token),
            configuration: .init(
                address: .hostname(configuration.admin.host, port: configuration.admin.port),
                serverName: configuration.service.rawValue
            ),
            onServerRunning: { channel in await listening.admin(channel.localAddress?.port ?? 0) },
            logger: logger
        )

        // The public server runs last in the service group, so on SIGTERM it stops first; then the
        // admin listener, the consumer, the relay, the publisher and, last, the pool.
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.http.host, port: configuration.http.port),
                serverName: configuration.service.rawValue
            ),
            services: [database, DatabasePoolMetrics(database: database), publisher, relay, consumer, retention, queueDepths, admin],
            onServerRunning: { channel in await listening.server(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

/// Who learns the listeners' ports once they are bound (tests bind port 0, `HTTP_PORT=0` and
/// `ADMIN_ADDRESS=127.0.0.1:0`, and learn the ports here).
public struct ServiceListening: Sendable {
    /// Called with the public listener's port.
    public var server: @Sendable (Int) async -> Void
    /// Called with the admin listener's port.
    public var admin: @Sendable (Int) async -> Void

    /// Calls `server` and `admin` with the ports; by default nobody.
    public init(server: @escaping @Sendable (Int) async -> Void = { _ in }, admin: @escaping @Sendable (Int) async -> Void = { _ in }) {
        (self.server, self.admin) = (server, admin)
    }
}
