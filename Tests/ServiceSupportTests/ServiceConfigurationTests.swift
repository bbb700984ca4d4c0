import AMQP
import Contract
import Logging
import ServiceSupport
import Testing

/// Configuration comes from the environment in one place, with documented defaults
/// and one-line errors that name the variable.
@Suite("Service configuration")
struct ServiceConfigurationTests {
    @Test("CustomerService's defaults")
    func customerDefaults() throws {
        let configuration = try ServiceConfiguration(service: .customerService, environment: [:])
        #expect(configuration.service == .customerService)
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8081)
        #expect(configuration.database.url == "postgres://customer_service:customer_service@127.0.0.1:5432/customer_service")
        #expect(configuration.database.poolSize == 10)
        #expect(configuration.broker.amqp.host == "127.0.0.1")
        #expect(configuration.broker.amqp.port == 5672)
        #expect(configuration.broker.amqp.user == "guest")
        #expect(configuration.broker.amqp.password == "guest")
        #expect(configuration.broker.amqp.virtualHost == "/")
        #expect(configuration.broker.prefetch == 100)
        #expect(configuration.broker.consumerConcurrency == 4)
        #expect(configuration.broker.consumerBatchSize == 50)
        #expect(configuration.broker.outboxBatchSize == 100)
        #expect(configuration.broker.outboxConcurrency == 1)
        #expect(configuration.broker.outboxPollInterval == .seconds(1))
        #expect(configuration.logLevel == .info)
        #expect(configuration.names == ReplicationNames())
    }

    @Test("OrderService's defaults differ only in port and database")
    func orderDefaults() throws {
        let configuration = try ServiceConfiguration(service: .orderService, environment: [:])
        #expect(configuration.service == .orderService)
        #expect(configuration.http.port == 8082)
        #expect(configuration.database.url == "postgres://order_service:order_service@127.0.0.1:5432/order_service")
        #expect(configuration.database.poolSize == 10)
        #expect(configuration.broker.amqp.port == 5672)
        #expect(configuration.logLevel == .info)
    }

    @Test("every variable overrides its default; empty values count as unset")
    func overrides() throws {
        let configuration = try ServiceConfiguration(
            service: .orderService,
            environment: [
                "HTTP_HOST": "0.0.0.0",
                "HTTP_PORT": "0",
                "DATABASE_URL": "postgres://u:p@db:6543/orders",
                "DATABASE_POOL_SIZE": "3",
                "AMQP_URL": "amqp://alice:secret@broker:5673/prod",
                "LOG_LEVEL": "DEBUG",
                "CONSUMER_PREFETCH": "7",
                "CONSUMER_CONCURRENCY": "2",
                "CONSUMER_BATCH_SIZE": "9",
                "OUTBOX_BATCH_SIZE": "250",
                "OUTBOX_CONCURRENCY": "3",
                "OUTBOX_POLL_INTERVAL_MS": "20",
                "UNRELATED": "ignored",
            ]
        )
        #expect(configuration.http.host == "0.0.0.0")
        #expect(configuration.http.port == 0)
        #expect(configuration.database.url == "postgres://u:p@db:6543/orders")
        #expect(configuration.database.poolSize == 3)
        #expect(configuration.broker.amqp.host == "broker")
        #expect(configuration.broker.amqp.port == 5673)
        #expect(configuration.broker.amqp.user == "alice")
        #expect(configuration.broker.amqp.virtualHost == "prod")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.broker.prefetch == 7)
        #expect(configuration.broker.consumerConcurrency == 2)
        #expect(configuration.broker.consumerBatchSize == 9)
        #expect(configuration.broker.outboxBatchSize == 250)
        #expect(configuration.broker.outboxConcurrency == 3)
        #expect(configuration.broker.outboxPollInterval == .milliseconds(20))

        let empty = try ServiceConfiguration(service: .customerService, environment: ["HTTP_PORT": "", "LOG_LEVEL": ""])
        #expect(empty.http.port == 8081)
        #expect(empty.logLevel == .info)
    }

    func error(_ environment: [String: String]) throws -> ConfigurationError {
        try #require(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .customerService, environment: environment)
        }
    }

    @Test("a bad HTTP_PORT is a one-line error naming the variable and the range", arguments: ["abc", "-1", "65536", "80.5", " 80"])
    func badPort(value: String) throws {
        let error = try error(["HTTP_PORT": value])
        #expect(error.variable == "HTTP_PORT")
        #expect(error.value == value)
        #expect(error.description == "invalid HTTP_PORT=\"\(value)\": must be an integer in 0...65535")
        #expect(!error.description.contains("\n"))
    }

    @Test("a bad DATABASE_POOL_SIZE is a one-line error", arguments: ["0", "501", "ten"])
    func badPoolSize(value: String) throws {
        let error = try error(["DATABASE_POOL_SIZE": value])
        #expect(error.description == "invalid DATABASE_POOL_SIZE=\"\(value)\": must be an integer in 1...500")
    }

    @Test("a bad LOG_LEVEL lists the levels in one line")
    func badLogLevel() throws {
        let error = try error(["LOG_LEVEL": "loud"])
        #expect(error.variable == "LOG_LEVEL")
        #expect(error.description == "invalid LOG_LEVEL=\"loud\": must be one of trace, debug, info, notice, warning, error, critical")
    }

    @Test("a bad AMQP_URL is a one-line error naming the variable", arguments: ["http://broker:5672/", "amqps://broker/", "amqp://broker:99999/", "amqp:///vhost", "amqp://broker/a/b"])
    func badAMQPURL(value: String) throws {
        let error = try error(["AMQP_URL": value])
        #expect(error.variable == "AMQP_URL")
        #expect(error.description.hasPrefix("invalid AMQP_URL=\"\(value)\": "))
        #expect(error.reason.count > 0)
        #expect(!error.description.contains("\n"))
    }

    @Test("other integer settings are range-checked too", arguments: [
        ("CONSUMER_PREFETCH", "0"), ("CONSUMER_CONCURRENCY", "257"), ("CONSUMER_BATCH_SIZE", "0"), ("OUTBOX_BATCH_SIZE", "0"), ("OUTBOX_CONCURRENCY", "65"), ("OUTBOX_POLL_INTERVAL_MS", "5"),
    ])
    func otherRanges(variable: String, value: String) throws {
        let error = try error([variable: value])
        #expect(error.variable == variable)
        #expect(error.description.hasPrefix("invalid \(variable)=\"\(value)\": must be an integer in "))
    }

    @Test("a malformed AMQP_URL's error does not print its password")
    func badAMQPURLHidesPassword() throws {
        let error = try error(["AMQP_URL": "amqps://alice:s3cr3t-pw@broker/"])
        #expect(error.variable == "AMQP_URL")
        #expect(!error.description.contains("s3cr3t-pw"), "\(error)")
        #expect(error.description.contains("amqps://alice:***@broker/"), "\(error)")
    }
}
