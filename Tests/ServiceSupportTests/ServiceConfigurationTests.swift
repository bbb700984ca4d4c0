import AMQP
import Contract
import Foundation
import Logging
import ServiceSupport
import Testing

/// Configuration comes from the environment in one place, with documented defaults
/// and one-line errors that name the variable.
@Suite("Service configuration")
struct ServiceConfigurationTests {
    @Test("CustomerService's defaults")
    func customerDefaults() throws {
        let configuration = try ServiceConfiguration(service: .customerService, environment: withToken([:]))
        #expect(configuration.service == .customerService)
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8081)
        #expect(configuration.database.url == "postgres://customer_service:customer_service@127.0.0.1:5432/customer_service")
        #expect(configuration.database.postgres.poolSize == 10)
        #expect(configuration.amqp.endpoints == [.init(host: "127.0.0.1", port: 5672)])
        #expect(configuration.amqp.user == "customer-service", "each service is its own broker user")
        #expect(configuration.amqp.password == "customer-service")
        #expect(configuration.relay.userID == "customer-service", "its events carry that user_id")
        #expect(configuration.consumer.acceptedPublisher == "order-service", "it accepts only its peer's events")
        #expect(configuration.amqp.virtualHost == "/")
        #expect(configuration.consumer.prefetch == 100)
        #expect(configuration.consumer.concurrency == 4)
        #expect(configuration.consumer.batchSize == 50)
        #expect(configuration.relay.batchSize == 100)
        #expect(configuration.relay.concurrency == 1)
        #expect(configuration.relay.pollInterval == .seconds(1))
        #expect(configuration.logLevel == .info)
        #expect(configuration.names == ReplicationNames())
    }

    @Test("OrderService's defaults differ only in port and database")
    func orderDefaults() throws {
        let configuration = try ServiceConfiguration(service: .orderService, environment: withToken([:]))
        #expect(configuration.service == .orderService)
        #expect(configuration.http.port == 8082)
        #expect(configuration.database.url == "postgres://order_service:order_service@127.0.0.1:5432/order_service")
        #expect(configuration.database.postgres.poolSize == 10)
        #expect(configuration.amqp.endpoints == [.init(host: "127.0.0.1", port: 5672)])
        #expect(configuration.logLevel == .info)
    }

    @Test("every variable overrides its default; empty values count as unset")
    func overrides() throws {
        let configuration = try ServiceConfiguration(
            service: .orderService,
            environment: withToken([
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
            ])
        )
        #expect(configuration.http.host == "0.0.0.0")
        #expect(configuration.http.port == 0)
        #expect(configuration.database.url == "postgres://u:p@db:6543/orders")
        #expect(configuration.database.postgres.poolSize == 3)
        #expect(configuration.amqp.endpoints == [.init(host: "broker", port: 5673)])
        #expect(configuration.amqp.user == "alice")
        #expect(configuration.amqp.virtualHost == "prod")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.consumer.prefetch == 7)
        #expect(configuration.consumer.concurrency == 2)
        #expect(configuration.consumer.batchSize == 9)
        #expect(configuration.relay.batchSize == 250)
        #expect(configuration.relay.concurrency == 3)
        #expect(configuration.relay.pollInterval == .milliseconds(20))

        let empty = try ServiceConfiguration(service: .customerService, environment: withToken(["HTTP_PORT": "", "LOG_LEVEL": ""]))
        #expect(empty.http.port == 8081)
        #expect(empty.logLevel == .info)
    }

    func error(_ environment: [String: String]) throws -> ConfigurationError {
        try #require(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .customerService, environment: withToken(environment))
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

    @Test(
        "a bad AMQP_URL is a one-line error naming the variable",
        arguments: [
            "http://broker:5672/", "amqps://broker:0/", "amqp://broker:99999/", "amqp:///vhost", "amqp://broker/a/b", "amqp://b1/,,amqp://b2/",
            "amqp://b1/,amqp://b2/prod",
        ])
    func badAMQPURL(value: String) throws {
        let error = try error(["AMQP_URL": value])
        #expect(error.variable == "AMQP_URL")
        #expect(error.description.hasPrefix("invalid AMQP_URL=\"\(value)\": "))
        #expect(error.reason.count > 0)
        #expect(!error.description.contains("\n"))
    }

    @Test(
        "other integer settings are range-checked too",
        arguments: [
            ("CONSUMER_PREFETCH", "0"), ("CONSUMER_CONCURRENCY", "257"), ("CONSUMER_BATCH_SIZE", "0"), ("OUTBOX_BATCH_SIZE", "0"),
            ("OUTBOX_CONCURRENCY", "65"), ("OUTBOX_POLL_INTERVAL_MS", "5"),
            ("CONSUMER_MAX_ATTEMPTS", "0"), ("CONSUMER_DELIVERY_LIMIT", "0"), ("DATABASE_STARTUP_WAIT_MS", "-1"), ("AMQP_CONFIRM_TIMEOUT_MS", "10"),
            ("AMQP_CONFIRM_WINDOW", "0"), ("RETRY_INITIAL_MS", "0"), ("DATABASE_MIGRATION_LOCK_KEY", "lock"),
        ])
    func otherRanges(variable: String, value: String) throws {
        let error = try error([variable: value])
        #expect(error.variable == variable)
        #expect(error.description.hasPrefix("invalid \(variable)=\"\(value)\": must be an integer in "))
    }

    @Test("AMQP_URL may list the nodes of a cluster, comma-separated")
    func amqpURLList() throws {
        let configuration = try ServiceConfiguration(
            service: .orderService, environment: withToken(["AMQP_URL": "amqp://alice:secret@n1:5672/prod, amqp://alice:secret@n2:5682/prod"]))
        #expect(configuration.amqp.endpoints == [.init(host: "n1", port: 5672), .init(host: "n2", port: 5682)])
        #expect(configuration.amqp.user == "alice")
        #expect(configuration.amqp.virtualHost == "prod")
    }

    @Test("an AMQP_URL list whose nodes disagree names the problem and prints no password")
    func amqpURLListDisagreeing() throws {
        let error = try error(["AMQP_URL": "amqp://alice:s3cr3t-pw@n1/,amqp://alice:0ther-pw@n2/"])
        #expect(error.variable == "AMQP_URL")
        #expect(error.description.contains("differs from node 1 in its password"), "\(error)")
        #expect(!error.description.contains("s3cr3t-pw") && !error.description.contains("0ther-pw"), "\(error)")
    }

    @Test("a malformed AMQP_URL's error does not print its password")
    func badAMQPURLHidesPassword() throws {
        let error = try error(["AMQP_URL": "amqpx://alice:s3cr3t-pw@broker/"])
        #expect(error.variable == "AMQP_URL")
        #expect(!error.description.contains("s3cr3t-pw"), "\(error)")
        #expect(error.description.contains("amqpx://alice:***@broker/"), "\(error)")
    }

    @Test("the settings that were constants have documented defaults, and can be set")
    func formerConstants() throws {
        let defaults = try ServiceConfiguration(service: .orderService, environment: withToken([:]))
        #expect(defaults.database.startupWait == .seconds(30))
        #expect(defaults.database.migrationLockKey == 0x7265_706c_6963_6174)
        #expect(defaults.database.postgres.connectTimeout == .seconds(5))
        #expect(defaults.consumer.maxAttempts == 5)
        #expect(defaults.consumer.deliveryLimit == 100)
        #expect(defaults.amqp.heartbeat == .seconds(30))
        #expect(defaults.amqp.confirmTimeout == .seconds(10))
        #expect(defaults.amqp.rpcTimeout == .seconds(10))
        #expect(defaults.amqp.connectTimeout == .seconds(5))
        #expect(defaults.retry.initial == .milliseconds(100) && defaults.retry.cap == .seconds(2))
        #expect(defaults.amqp.reconnectMaximumDelay == .seconds(2))
        #expect(defaults.relay.appID == "order-service")
        #expect(defaults.relay.maxAttempts == 5)
        #expect(defaults.database.postgres.acquireTimeout == .seconds(10))
        #expect(defaults.database.postgres.statementTimeout == .seconds(30))
        #expect(defaults.database.postgres.idleInTransactionTimeout == .seconds(60))
        #expect(defaults.database.postgres.tcpUserTimeout == .seconds(15))

        let set = try ServiceConfiguration(
            service: .orderService,
            environment: withToken([
                "DATABASE_STARTUP_WAIT_MS": "1500", "DATABASE_MIGRATION_LOCK_KEY": "-7", "CONSUMER_MAX_ATTEMPTS": "9",
                "CONSUMER_DELIVERY_LIMIT": "3", "AMQP_HEARTBEAT_MS": "0", "AMQP_CONFIRM_TIMEOUT_MS": "2500", "RETRY_MAX_MS": "800",
                "OUTBOX_MAX_ATTEMPTS": "3", "DATABASE_ACQUIRE_TIMEOUT_MS": "250", "DATABASE_STATEMENT_TIMEOUT_MS": "0",
            ]))
        #expect(set.relay.maxAttempts == 3)
        #expect(set.database.postgres.acquireTimeout == .milliseconds(250))
        #expect(set.database.postgres.statementTimeout == .zero)
        #expect(set.database.startupWait == .milliseconds(1500))
        #expect(set.database.migrationLockKey == -7)
        #expect(set.consumer.maxAttempts == 9)
        #expect(set.amqp.heartbeat == .zero)
        #expect(set.amqp.confirmTimeout == .milliseconds(2500))
        #expect(set.relay.retry.cap == .milliseconds(800))
        let consumer = set.consumer(of: "customer.events", through: "order-service.customer-events")
        #expect(consumer.maxAttempts == 9)
        #expect(consumer.topology.queues.first?.arguments["x-delivery-limit"] == .int(3))
    }

    @Test("the logger is made with LOG_LEVEL")
    func logger() throws {
        let configuration = try ServiceConfiguration(service: .customerService, environment: withToken(["LOG_LEVEL": "WARNING"]))
        #expect(configuration.makeLogger().logLevel == .warning)
        #expect(configuration.makeLogger().label == "customer-service")
    }

    @Test("a service without an operations token does not start: one line names the variable")
    func tokenRequired() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .customerService, environment: [:])
        }
        #expect(error.variable == "OPERATIONS_TOKEN")
        #expect(!"\(error)".contains("\n"))
        #expect("\(error)".contains("OPERATIONS_TOKEN_FILE"))
    }

    @Test("a short operations token is refused without printing it")
    func shortToken() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .customerService, environment: ["OPERATIONS_TOKEN": "secret"])
        }
        #expect(error.variable == "OPERATIONS_TOKEN")
        #expect(!"\(error)".contains("secret"))
    }

    @Test("OPERATIONS_TOKEN_FILE is read and trimmed; an unreadable one is an error naming it")
    func tokenFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try "0123456789abcdef-from-a-file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try ServiceConfiguration(service: .orderService, environment: ["OPERATIONS_TOKEN_FILE": path])
        #expect(configuration.admin.token == "0123456789abcdef-from-a-file")
        let error = try #require(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .orderService, environment: ["OPERATIONS_TOKEN_FILE": path + ".missing"])
        }
        #expect(error.variable == "OPERATIONS_TOKEN_FILE")
    }

    @Test("the admin listener defaults to loopback on 9081 / 9082; ADMIN_ADDRESS sets it")
    func adminAddress() throws {
        let customer = try ServiceConfiguration(service: .customerService, environment: withToken([:]))
        #expect((customer.admin.host, customer.admin.port) == ("127.0.0.1", 9081))
        let order = try ServiceConfiguration(service: .orderService, environment: withToken([:]))
        #expect((order.admin.host, order.admin.port) == ("127.0.0.1", 9082))
        let set = try ServiceConfiguration(service: .orderService, environment: withToken(["ADMIN_ADDRESS": "[::1]:0"]))
        #expect((set.admin.host, set.admin.port) == ("::1", 0))
        for bad in ["9082", "host:", ":9082", "host:99999", "host:port"] {
            let error = try #require(throws: ConfigurationError.self) {
                try ServiceConfiguration(service: .orderService, environment: withToken(["ADMIN_ADDRESS": bad]))
            }
            #expect(error.variable == "ADMIN_ADDRESS", "\(bad)")
        }
    }

    @Test("a resync goes to the peer unless RESYNC_SUBSCRIBERS lists others")
    func resyncSubscribers() throws {
        #expect(try ServiceConfiguration(service: .customerService, environment: withToken([:])).resyncSubscribers == ["order-service"])
        let listed = try ServiceConfiguration(
            service: .orderService, environment: withToken(["RESYNC_SUBSCRIBERS": "customer-service, billing ,"]))
        #expect(listed.resyncSubscribers == ["customer-service", "billing"])
    }
}

/// `environment` with an operations token, which every service needs to start.
func withToken(_ environment: [String: String]) -> [String: String] {
    environment.merging(["OPERATIONS_TOKEN": "a-token-long-enough-for-tests"]) { given, _ in given }
}
