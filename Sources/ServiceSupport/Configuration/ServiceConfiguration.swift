import AMQP
import Contract
import Logging
import Postgres
import Replication
import Retry

/// Everything a service reads from its environment, with its defaults. The variables, their
/// defaults and their meaning are documented once, in docs/configuration.md; a test checks that
/// its table lists exactly ``environmentVariables()``.
public struct ServiceConfiguration: Sendable {
    /// Where the HTTP server listens.
    public struct HTTP: Sendable {
        /// The address to bind.
        public var host: String
        /// The port; 0 picks a free one (tests).
        public var port: Int
    }

    /// The service's own database.
    public struct Database: Sendable {
        /// The pool's settings: `DATABASE_URL`, `DATABASE_POOL_SIZE` and the `DATABASE_*_TIMEOUT_MS` deadlines.
        public var postgres: PostgresConfiguration
        /// How long start-up waits for the database to accept connections before the service gives up.
        public var startupWait: Duration
        /// The advisory lock key that serialises migrations of instances starting together.
        public var migrationLockKey: Int64
        /// `DATABASE_URL`.
        public var url: String { postgres.connectionString }
    }

    /// The consumer of the service's subscription.
    public struct Consumer: Sendable {
        /// Unacked deliveries the broker may send ahead.
        public var prefetch: Int
        /// Batches of deliveries applied at once.
        public var concurrency: Int
        /// The most deliveries applied in one transaction.
        public var batchSize: Int
        /// Attempts at an event that fails with a non-transient error before it is dead-lettered.
        public var maxAttempts: Int
        /// The subscriber queue's `x-delivery-limit`.
        public var deliveryLimit: Int
        /// The broker user whose events are accepted (`CONSUMER_PUBLISHER_USER`); nil accepts any.
        public var acceptedPublisher: String?
    }

    /// Which service this is.
    public var service: ServiceName
    /// HTTP settings.
    public var http: HTTP
    /// The admin listener and its token.
    public var admin: AdminConfiguration
    /// The subscribers a resync may send to (`RESYNC_SUBSCRIBERS`, comma-separated; default the peer).
    public var resyncSubscribers: Set<String>
    /// Database settings.
    public var database: Database
    /// The broker: its URL, timeouts and reconnect backoff.
    public var amqp: AMQPConfiguration
    /// The outbox relay.
    public var relay: OutboxRelay.Configuration
    /// How long published outbox rows, inbox rows, idempotency keys and finished resync jobs are kept.
    public var retention: Retention.Configuration
    /// The consumer.
    public var consumer: Consumer
    /// The backoff of database work that failed: migrations at start-up, relay and consumer retries.
    public var retry: Backoff
    /// The log level.
    public var logLevel: Logger.Level
    /// The broker names: the contract's, unless `BROKER_NAME_PREFIX` puts a prefix
    /// before each (so that independent systems, such as tests, can share one broker).
    public var names: ReplicationNames

    /// Reads the configuration of `service` from `environment`; a missing or malformed
    /// value throws a ``ConfigurationError`` that names the variable in one line.
    public init(service: ServiceName, environment: [String: String]) throws(ConfigurationError) {
        try self.init(service: service, reader: EnvironmentReader(environment))
    }

    /// Reads the configuration of `service` through `reader`, which notes every name it is asked for.
    init(service: ServiceName, reader: EnvironmentReader) throws(ConfigurationError) {
        let defaultPort = service == .customerService ? 8081 : 8082
        let databaseName = service.rawValue.replacingOccurrences(of: "-", with: "_")
        self.service = service
        http = HTTP(
            host: reader.string("HTTP_HOST", default: "127.0.0.1"),
            port: try reader.integer("HTTP_PORT", default: defaultPort, in: 0...65535)
        )
        admin = try AdminConfiguration(reader, defaultPort: defaultPort + 1000)
        resyncSubscribers = Set(
            reader.string("RESYNC_SUBSCRIBERS", default: service.peer.rawValue).split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty })
        var postgres = PostgresConfiguration(
            connectionString: reader.string("DATABASE_URL", default: "postgres://\(databaseName):\(databaseName)@127.0.0.1:5432/\(databaseName)"),
            poolSize: try reader.integer("DATABASE_POOL_SIZE", default: 10, in: 1...500)
        )
        postgres.connectTimeout = try reader.milliseconds("DATABASE_CONNECT_TIMEOUT_MS", default: 5000, in: 100...600_000)
        postgres.acquireTimeout = try reader.milliseconds("DATABASE_ACQUIRE_TIMEOUT_MS", default: 10_000, in: 1...600_000)
        postgres.statementTimeout = try reader.milliseconds("DATABASE_STATEMENT_TIMEOUT_MS", default: 30_000, in: 0...86_400_000)
        postgres.idleInTransactionTimeout = try reader.milliseconds(
            "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", default: 60_000, in: 0...86_400_000)
        postgres.tcpUserTimeout = try reader.milliseconds("DATABASE_TCP_USER_TIMEOUT_MS", default: 15_000, in: 1000...600_000)
        postgres.applicationName = service.rawValue
        database = Database(
            postgres: postgres,
            startupWait: try reader.milliseconds("DATABASE_STARTUP_WAIT_MS", default: 30_000, in: 0...3_600_000),
            migrationLockKey: Int64(try reader.integer("DATABASE_MIGRATION_LOCK_KEY", default: 0x7265_706c_6963_6174, in: Int.min...Int.max))
        )
        amqp = try Self.amqp(reader, service: service)
        retry = Backoff(
            initial: try reader.milliseconds("RETRY_INITIAL_MS", default: 100, in: 1...60_000),
            cap: try reader.milliseconds("RETRY_MAX_MS", default: 2000, in: 1...600_000)
        )
        relay = OutboxRelay.Configuration(
            appID: service.rawValue,
            batchSize: try reader.integer("OUTBOX_BATCH_SIZE", default: 100, in: 1...10000),
            concurrency: try reader.integer("OUTBOX_CONCURRENCY", default: 1, in: 1...64),
            pollInterval: try reader.milliseconds("OUTBOX_POLL_INTERVAL_MS", default: 1000, in: 10...3_600_000),
            retry: retry,
            maxAttempts: try reader.integer("OUTBOX_MAX_ATTEMPTS", default: 5, in: 1...1000),
            parkAfter: try reader.retention("OUTBOX_PARK_AFTER", default: .seconds(600))
        )
        relay.userID = amqp.user
        consumer = Consumer(
            prefetch: try reader.integer("CONSUMER_PREFETCH", default: 100, in: 1...65535),
            concurrency: try reader.integer("CONSUMER_CONCURRENCY", default: 4, in: 1...256),
            batchSize: try reader.integer("CONSUMER_BATCH_SIZE", default: 50, in: 1...10000),
            maxAttempts: try reader.integer("CONSUMER_MAX_ATTEMPTS", default: 5, in: 1...1000),
            deliveryLimit: try reader.integer("CONSUMER_DELIVERY_LIMIT", default: ReplicationTopology.defaultDeliveryLimit, in: 1...10000),
            acceptedPublisher: Self.acceptedPublisher(reader.string("CONSUMER_PUBLISHER_USER", default: service.peer.rawValue))
        )
        retention = Retention.Configuration(
            outbox: try reader.retention("OUTBOX_RETENTION", default: .seconds(7 * 86_400)),
            inbox: try reader.retention("INBOX_RETENTION", default: .seconds(7 * 86_400)),
            idempotencyKeys: try reader.retention("IDEMPOTENCY_KEY_RETENTION", default: .seconds(86_400)),
            resyncJobs: try reader.retention("RESYNC_JOB_RETENTION", default: .seconds(7 * 86_400)),
            interval: try reader.milliseconds("RETENTION_INTERVAL_MS", default: 10_000, in: 10...86_400_000)
        )
        let level = reader.string("LOG_LEVEL", default: "info")
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError(
                variable: "LOG_LEVEL", value: level,
                reason: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.logLevel = logLevel
        names = ReplicationNames(prefix: reader.string("BROKER_NAME_PREFIX", default: ""))
    }

    /// Every environment variable a service reads: those of the configuration, noted while
    /// reading both services' configurations from ``minimalEnvironment``, and those of the span
    /// export. Throws what that reading throws, so that a list cut short cannot go unnoticed.
    public static func environmentVariables() throws(ConfigurationError) -> [String] {
        var names: [String] = []
        for service in [ServiceName.customerService, .orderService] {
            let reader = EnvironmentReader(minimalEnvironment)
            _ = try ServiceConfiguration(service: service, reader: reader)
            names += reader.names.filter { !names.contains($0) }
        }
        return names + SpanExport.environmentVariables.filter { !names.contains($0) }
    }

    /// The least a service needs to start: an operations token (a placeholder here).
    static let minimalEnvironment = ["OPERATIONS_TOKEN": String(repeating: "x", count: 16)]

    /// `AMQP_URL` and the `AMQP_*` timeouts.
    private static func amqp(_ reader: EnvironmentReader, service: ServiceName) throws(ConfigurationError) -> AMQPConfiguration {
        let user = service.rawValue
        let url = reader.string("AMQP_URL", default: "amqp://\(user):\(user)@127.0.0.1:5672/%2F")
        var amqp: AMQPConfiguration
        do {
            amqp = try AMQPConfiguration(url: url)
        } catch {
            throw ConfigurationError(variable: "AMQP_URL", value: AMQPConfiguration.redacted(url), reason: "\(error)")
        }
        amqp.tls = try amqpTLS(reader, url: url, amqp: amqp)
        amqp.heartbeat = try reader.milliseconds("AMQP_HEARTBEAT_MS", default: 30_000, in: 0...3_600_000)
        amqp.connectTimeout = try reader.milliseconds("AMQP_CONNECT_TIMEOUT_MS", default: 5000, in: 100...600_000)
        amqp.confirmTimeout = try reader.milliseconds("AMQP_CONFIRM_TIMEOUT_MS", default: 10_000, in: 100...600_000)
        amqp.rpcTimeout = try reader.milliseconds("AMQP_RPC_TIMEOUT_MS", default: 10_000, in: 100...600_000)
        amqp.confirmWindow = try reader.integer("AMQP_CONFIRM_WINDOW", default: 128, in: 1...65535)
        amqp.reconnectInitialDelay = try reader.milliseconds("AMQP_RECONNECT_INITIAL_MS", default: 100, in: 1...60_000)
        amqp.reconnectMaximumDelay = try reader.milliseconds("AMQP_RECONNECT_MAX_MS", default: 2000, in: 1...600_000)
        return amqp
    }

    /// `CONSUMER_PUBLISHER_USER`: a user name, or `*` for any.
    private static func acceptedPublisher(_ value: String) -> String? {
        value == "*" ? nil : value
    }

    /// The service's logger at ``logLevel``: `main` makes it here, once, from the configuration.
    public func makeLogger() -> Logger {
        var logger = Logger(label: service.rawValue)
        logger.logLevel = logLevel
        return logger
    }

    /// The consumer of `queue`, bound to `exchange`, with these settings.
    public func consumer(of exchange: String, through queue: String) -> ReplicaConsumerConfiguration {
        ReplicaConsumerConfiguration(
            exchange: exchange, queue: queue, names: names,
            prefetch: consumer.prefetch, concurrency: consumer.concurrency, batchSize: consumer.batchSize,
            maxAttempts: consumer.maxAttempts, deliveryLimit: consumer.deliveryLimit, retry: retry,
            acceptedPublisher: consumer.acceptedPublisher
        )
    }
}
