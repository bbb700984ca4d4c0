import AMQP
import Contract
import Logging

/// Everything a service reads from its environment, with the documented defaults.
///
/// | variable | default |
/// | --- | --- |
/// | `DATABASE_URL` | `postgres://<service>:<service>@127.0.0.1:5432/<service>` |
/// | `DATABASE_POOL_SIZE` | `10` |
/// | `AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/%2F` |
/// | `HTTP_HOST` | `127.0.0.1` |
/// | `HTTP_PORT` | `8081` (CustomerService), `8082` (OrderService) |
/// | `LOG_LEVEL` | `info` |
/// | `CONSUMER_PREFETCH` | `100` |
/// | `CONSUMER_CONCURRENCY` | `4` |
/// | `CONSUMER_BATCH_SIZE` | `50` |
/// | `OUTBOX_BATCH_SIZE` | `100` |
/// | `OUTBOX_CONCURRENCY` | `1` |
/// | `OUTBOX_POLL_INTERVAL_MS` | `1000` |
/// | `BROKER_NAME_PREFIX` | empty |
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
        /// A `postgres://` URL or a libpq conninfo string.
        public var url: String
        /// Connections in the pool.
        public var poolSize: Int
    }

    /// The broker and how events are consumed and published.
    public struct Broker: Sendable {
        /// The parsed `AMQP_URL`.
        public var amqp: AMQPConfiguration
        /// Unacked deliveries the broker may send ahead.
        public var prefetch: Int
        /// Batches of deliveries applied at once.
        public var consumerConcurrency: Int
        /// The most deliveries applied in one transaction.
        public var consumerBatchSize: Int
        /// Outbox rows per publish batch.
        public var outboxBatchSize: Int
        /// Publish batches the relay has in flight at once.
        public var outboxConcurrency: Int
        /// How often the relay looks at the outbox when not woken by a commit.
        public var outboxPollInterval: Duration
    }

    /// Which service this is.
    public var service: ServiceName
    /// HTTP settings.
    public var http: HTTP
    /// Database settings.
    public var database: Database
    /// Broker settings.
    public var broker: Broker
    /// The log level.
    public var logLevel: Logger.Level
    /// The broker names: the contract's, unless `BROKER_NAME_PREFIX` puts a prefix
    /// before each (so that independent systems, such as tests, can share one broker).
    public var names: ReplicationNames

    /// Reads the configuration of `service` from `environment`; a missing or malformed
    /// value throws a ``ConfigurationError`` that names the variable in one line.
    public init(service: ServiceName, environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        let defaultPort = service == .customerService ? 8081 : 8082
        let databaseName = service.rawValue.replacingOccurrences(of: "-", with: "_")
        self.service = service
        http = HTTP(
            host: reader.string("HTTP_HOST", default: "127.0.0.1"),
            port: try reader.integer("HTTP_PORT", default: defaultPort, in: 0...65535)
        )
        database = Database(
            url: reader.string("DATABASE_URL", default: "postgres://\(databaseName):\(databaseName)@127.0.0.1:5432/\(databaseName)"),
            poolSize: try reader.integer("DATABASE_POOL_SIZE", default: 10, in: 1...500)
        )
        let amqpURL = reader.string("AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/%2F")
        let amqp: AMQPConfiguration
        do {
            amqp = try AMQPConfiguration(url: amqpURL)
        } catch {
            throw ConfigurationError(variable: "AMQP_URL", value: AMQPConfiguration.redacted(amqpURL), reason: "\(error)")
        }
        broker = Broker(
            amqp: amqp,
            prefetch: try reader.integer("CONSUMER_PREFETCH", default: 100, in: 1...65535),
            consumerConcurrency: try reader.integer("CONSUMER_CONCURRENCY", default: 4, in: 1...256),
            consumerBatchSize: try reader.integer("CONSUMER_BATCH_SIZE", default: 50, in: 1...10000),
            outboxBatchSize: try reader.integer("OUTBOX_BATCH_SIZE", default: 100, in: 1...10000),
            outboxConcurrency: try reader.integer("OUTBOX_CONCURRENCY", default: 1, in: 1...64),
            outboxPollInterval: .milliseconds(try reader.integer("OUTBOX_POLL_INTERVAL_MS", default: 1000, in: 10...3_600_000))
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
}

/// A missing or malformed setting, said in one line.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The environment variable.
    public var variable: String
    /// Its value.
    public var value: String
    /// What is wrong with it.
    public var reason: String

    /// `invalid HTTP_PORT="abc": must be an integer in 0...65535`.
    public var description: String { "invalid \(variable)=\"\(value)\": \(reason)" }
}

/// Reads typed values from an environment dictionary.
struct EnvironmentReader {
    let environment: [String: String]

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    func string(_ name: String, default value: String) -> String {
        guard let text = environment[name], !text.isEmpty else { return value }
        return text
    }

    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = environment[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(variable: name, value: text, reason: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }
}
