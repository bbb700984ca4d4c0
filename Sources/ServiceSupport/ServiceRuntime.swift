import AMQP
import Contract
import Hummingbird
import Logging
import Postgres
import Replication
import ServiceLifecycle

/// The parts every replicating service is made of: its database pool (migrated),
/// its publisher, its outbox relay, and its consumer; built from a
/// ``ServiceConfiguration`` by ``make(configuration:migrations:ownExchange:logger:)``.
public struct ServiceRuntime: Sendable {
    /// The configuration it was built from.
    public let configuration: ServiceConfiguration
    /// The service's logger.
    public let logger: Logger
    /// The service's database pool.
    public let database: PostgresClient
    /// Publishes the outbox and dead-letters poison.
    public let publisher: AMQPPublisher
    /// Publishes committed outbox rows; wake it after each commit.
    public let relay: OutboxRelay

    /// Connects the pool, applies `migrations` (the shared replication tables
    /// first), and builds the publisher and relay for `ownExchange`.
    ///
    /// While the database refuses connections, migrating is retried with backoff
    /// for up to `databaseWait`; after that, or on any other migration error,
    /// this throws and the service does not start.
    public static func make(
        configuration: ServiceConfiguration,
        migrations: [Migration],
        ownExchange: String,
        logger: Logger,
        databaseWait: Duration = .seconds(30)
    ) async throws -> ServiceRuntime {
        var postgres = PostgresConfiguration(connectionString: configuration.database.url, poolSize: configuration.database.poolSize)
        postgres.applicationName = configuration.service.rawValue
        let database = PostgresClient(configuration: postgres, logger: logger)
        let migrator = Migrator(
            migrations: ReplicationSchema.migrations + migrations,
            advisoryLockKey: 0x7265_706c_6963_6174  // "replicat"
        )
        let deadline = ContinuousClock.now + databaseWait
        var backoff = Backoff(initial: .milliseconds(200), cap: .seconds(5))
        while true {
            do {
                try await migrator.migrate(database, logger: logger)
                break
            } catch let error as PostgresError where error.isConnectionFailure && ContinuousClock.now < deadline {
                logger.warning("database unavailable, retrying migrations", metadata: ["error": "\(error)"])
                try await backoff.sleep()
            } catch {
                await database.close()
                throw error
            }
        }
        let publisher = AMQPPublisher(
            configuration: configuration.broker.amqp,
            topology: ReplicationTopology.publisher(exchange: ownExchange, names: configuration.names),
            logger: logger
        )
        let relay = OutboxRelay(
            configuration: .init(
                appID: configuration.service.rawValue,
                batchSize: configuration.broker.outboxBatchSize,
                concurrency: configuration.broker.outboxConcurrency,
                pollInterval: configuration.broker.outboxPollInterval
            ),
            database: database,
            publisher: publisher,
            logger: logger
        )
        return ServiceRuntime(configuration: configuration, logger: logger, database: database, publisher: publisher, relay: relay)
    }

    /// The consumer of `queue` (bound to `exchange`) that applies events with `handler`.
    public func consumer<Handler: ReplicaEventHandler>(exchange: String, queue: String, handler: Handler) -> ReplicaConsumer<Handler> {
        ReplicaConsumer(
            configuration: .init(
                exchange: exchange,
                queue: queue,
                names: configuration.names,
                prefetch: configuration.broker.prefetch,
                concurrency: configuration.broker.consumerConcurrency,
                batchSize: configuration.broker.consumerBatchSize
            ),
            amqp: configuration.broker.amqp,
            database: database,
            publisher: publisher,
            handler: handler,
            logger: logger
        )
    }

    /// The state of the service's dependencies; ready means writes are accepted,
    /// which needs the database but not the broker.
    public func readiness() async -> Readiness {
        let database: Readiness.Dependency
        do {
            _ = try await self.database.query("SELECT 1")
            database = .init(up: true, detail: nil)
        } catch {
            database = .init(up: false, detail: (error as? PostgresError)?.message ?? "\(error)")
        }
        let brokerUp = publisher.isConnected
        return Readiness(
            database: database,
            broker: .init(up: brokerUp, detail: brokerUp ? nil : "not connected; events wait in the outbox")
        )
    }

    /// Builds the Hummingbird application: the HTTP server runs last in the
    /// service group, so it stops first on SIGTERM; then the consumer stops
    /// consuming, the relay finishes its batch, and the connections close.
    public func application(
        router: Router<BasicRequestContext>,
        services: [any Service],
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.http.host, port: configuration.http.port),
                serverName: configuration.service.rawValue
            ),
            services: [database, DatabasePoolMetrics(database: database), publisher, relay] + services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// A router with the shared middleware: request ids, problem+json errors, HTTP
    /// metrics, and `Location` headers sent as set.
    public static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: LocationHeaderMiddleware())
        return router
    }
}

/// Whether a service accepts writes, and the state of each dependency.
public struct Readiness: Sendable {
    /// One dependency's state.
    public struct Dependency: Sendable {
        /// Reachable.
        public var up: Bool
        /// Why not, when it is not.
        public var detail: String?
    }

    /// The database.
    public var database: Dependency
    /// The broker.
    public var broker: Dependency
    /// Writes are accepted (the database is up; the broker is not needed, the outbox holds events).
    public var isReady: Bool { database.up }
}
