import AMQP
import CommonClient
import Contract
import CustomerService
import Foundation
import Hummingbird
import Logging
import OrderService
import Postgres
import Replication
import ServiceClient
import ServiceLifecycle
import ServiceSupport
import Synchronization
import TestSupport
import Testing

/// Both services, running in this process on free ports, each with its own new
/// database and role, and broker objects under a prefix unique to the test.
///
/// A service that crashes fails the test at once with its error, and ends the waits
/// (``eventually(timeout:pollEvery:_:)``) in the test's body: see ``RunningService``.
struct TestSystem: Sendable {
    /// The unique suffix of this system's names.
    let id: String
    /// The broker names (prefixed).
    let names: ReplicationNames
    /// Each service's configuration.
    let configurations: [ServiceName: ServiceConfiguration]
    /// Where the tests talk to the broker directly.
    let broker: AMQPConnection
    let customerService: RunningService
    let orderService: RunningService

    var customerServiceURL: URL { URL(string: "http://127.0.0.1:\(customerService.port)")! }
    var orderServiceURL: URL { URL(string: "http://127.0.0.1:\(orderService.port)")! }
    var customerServiceAdminURL: URL { URL(string: "http://127.0.0.1:\(customerService.adminPort)")! }
    var orderServiceAdminURL: URL { URL(string: "http://127.0.0.1:\(orderService.adminPort)")! }
    /// The admin listener of `service`.
    func adminURL(_ service: ServiceName) -> URL {
        service == .customerService ? customerServiceAdminURL : orderServiceAdminURL
    }

    /// Clients of both services, with the operations token.
    var clients: ServiceClients {
        ServiceClients(
            customerServiceURL: customerServiceURL, orderServiceURL: orderServiceURL, customerServiceAdminURL: customerServiceAdminURL,
            orderServiceAdminURL: orderServiceAdminURL, token: TestSystem.operationsToken)
    }

    /// The operations token of every test system's services.
    static let operationsToken = "test-operations-token-\(UUID().uuidString.lowercased())"

    /// A file holding ``operationsToken``, for `--token-file`.
    static let operationsTokenFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("operations-token-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data(operationsToken.utf8))
        return path
    }()

    /// The options of a `common-client` command that reach this system: both listeners of both
    /// services, and the token.
    var clientArguments: [String] {
        [
            "--customer-service-url", customerServiceURL.absoluteString, "--order-service-url", orderServiceURL.absoluteString,
            "--customer-service-admin-url", customerServiceAdminURL.absoluteString, "--order-service-admin-url",
            orderServiceAdminURL.absoluteString, "--token-file", TestSystem.operationsTokenFile,
        ]
    }

    /// `Authorization: Bearer <token>` for raw calls to an admin listener.
    static var authorization: [(String, String)] { [("Authorization", "Bearer \(operationsToken)")] }

    /// The database URL of a service (with its own credentials).
    func databaseURL(_ service: ServiceName) -> String {
        configurations[service]!.database.url
    }

    /// The types of the events in `service`'s outbox, in order.
    func outboxEventTypes(_ service: ServiceName) async throws -> [String] {
        try await withDatabase(service) { database in
            try await database.query("SELECT event_type FROM outbox ORDER BY sequence").map { try $0.decode(0, as: String.self) }
        }
    }

    /// Creates `count` customers named `<prefix><n>` with emails `<prefix><n>@example.com`; their ids, in order.
    func createCustomers(_ count: Int, prefix: String) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            ids.append(try await clients.createCustomer(name: "\(prefix)\(index)", email: "\(prefix)\(index)@example.com", creditLimit: nil).id)
        }
        return ids
    }

    /// Creates a customer and waits until OrderService's replica has it: the customer an order can be for.
    func createReplicatedCustomer(name: String, email: String) async throws -> Components.Schemas.Customer {
        let customer = try await clients.createCustomer(name: name, email: email, creditLimit: nil)
        guard try await eventually({ try await clients.replicaCustomer(id: customer.id) != nil }) else {
            throw TestSystemError("customer \(customer.id) did not reach OrderService's replica")
        }
        return customer
    }

    /// Runs `body` with a client of `service`'s database.
    func withDatabase<T: Sendable>(_ service: ServiceName, _ body: (PostgresClient) async throws -> T) async throws -> T {
        try await TestDatabase.withClient(PostgresConfiguration(connectionString: databaseURL(service), poolSize: 2), body)
    }
}

/// One service application running in a service group of its own, which a
/// test can stop (graceful shutdown, as on SIGTERM) and start again on the same port.
///
/// A crash (the group ends with an error while nobody asked it to stop) is recorded at
/// once as a failure of the test, with the error, at the line that called ``withSystem``;
/// the waits under the system's ``BackgroundFailures`` then stop polling. A crash while
/// starting is thrown by ``start(port:)``; an error while stopping, by ``stop()``.
final class RunningService: Sendable {
    /// Builds the application, which tells `listening` its ports once it listens.
    typealias Build = @Sendable (_ listening: ServiceListening) async throws -> any ApplicationProtocol

    private enum Phase {
        case stopped, starting, running, crashed, stopping
    }

    private struct State {
        var port = 0
        var adminPort = 0
        var group: ServiceGroup?
        var task: Task<Void, any Error>?
        var phase = Phase.stopped
        /// The error of a crash while starting, for ``start(port:)`` to throw.
        var startFailure: (any Error)?
    }

    let name: String
    private let build: Build
    private let failures: BackgroundFailures
    private let sourceLocation: SourceLocation
    private let state = Mutex(State())

    init(name: String, failures: BackgroundFailures, sourceLocation: SourceLocation, build: @escaping Build) {
        self.name = name
        self.failures = failures
        self.sourceLocation = sourceLocation
        self.build = build
    }

    /// The port it listens on (0 before the first start).
    var port: Int { state.withLock { $0.port } }
    /// The port its admin listener listens on (0 before the first start).
    var adminPort: Int { state.withLock { $0.adminPort } }

    /// Starts the service and returns once it listens.
    func start(port requested: Int? = nil) async throws {
        state.withLock {
            $0.phase = .starting; $0.startFailure = nil
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let (adminStream, adminContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = try await build(.init(server: { continuation.yield($0) }, admin: { adminContinuation.yield($0) }))
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: application)], logger: TestEnvironment.logger)
        )
        let task = Task {
            defer {
                continuation.finish()
                adminContinuation.finish()
            }
            do {
                try await group.run()
            } catch {
                self.ended(with: error)
                throw error
            }
        }
        var iterator = stream.makeAsyncIterator()
        var adminIterator = adminStream.makeAsyncIterator()
        guard let port = await iterator.next(), let adminPort = await adminIterator.next() else {
            state.withLock { $0.phase = .stopped }
            try await task.value
            throw TestSystemError("\(name) stopped before it listened")
        }
        let failure = state.withLock { state -> (any Error)? in
            state.port = port
            state.adminPort = adminPort
            state.group = group
            state.task = task
            state.phase = state.startFailure == nil ? .running : .stopped
            return state.startFailure
        }
        if let failure { throw failure }
    }

    /// Shuts it down gracefully and waits until it has stopped; throws what the group threw
    /// while stopping (not a crash, which failed the test when it happened).
    func stop() async throws {
        let (group, task, crashed) = state.withLock { state in
            let crashed = state.phase == .crashed
            state.phase = .stopping
            return (state.group, state.task, crashed)
        }
        await group?.triggerGracefulShutdown()
        if crashed {
            _ = await task?.result
        } else {
            try await task?.value
        }
        state.withLock {
            $0.group = nil; $0.task = nil; $0.phase = .stopped
        }
    }

    /// The group ended with `error`: a crash unless the harness was starting or stopping it.
    private func ended(with error: any Error) {
        let crashed = state.withLock { state -> Bool in
            switch state.phase {
            case .running:
                state.phase = .crashed
                return true
            case .starting:
                state.startFailure = error
                return false
            case .stopped, .crashed, .stopping:
                return false
            }
        }
        if crashed { failures.record(error, of: name, sourceLocation: sourceLocation) }
    }
}

struct TestSystemError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Creates a ``TestSystem``, runs `body`, then stops the services and drops the
/// databases, roles and broker objects, whatever happened.
func withSystem<T: Sendable>(
    start: Bool = true,
    configure: (inout ServiceConfiguration) -> Void = { _ in },
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (TestSystem) async throws -> T
) async throws -> T {
    let postgresURL = try TestEnvironment.postgresURL(sourceLocation: sourceLocation)
    let amqpURL = try TestEnvironment.amqpURL(sourceLocation: sourceLocation)
    let id = TestEnvironment.uniqueID()
    let names = ReplicationNames(prefix: "t-\(id).")
    let admin = PostgresClient(
        configuration: try TestDatabase.administrativeConfiguration(sourceLocation: sourceLocation), logger: TestEnvironment.logger)
    let adminConfiguration = PostgresConfiguration(connectionString: postgresURL)
    let databases = ["cs_\(id)", "os_\(id)"]
    let broker = try await AMQPConnection.connect(try AMQPConfiguration(url: amqpURL), logger: TestEnvironment.logger)

    func cleanUp(_ system: TestSystem?) async {
        if let system {
            try? await system.orderService.stop()
            try? await system.customerService.stop()
        }
        for queue in [names.customerEventsQueue, names.orderEventsQueue] {
            _ = try? await broker.delete(queue: queue)
            _ = try? await broker.delete(queue: names.deadLetterQueue(of: queue))
        }
        for exchange in [names.customerEvents, names.orderEvents, names.deadLetterExchange] {
            try? await broker.delete(exchange: exchange)
        }
        await broker.close()
        for database in databases {
            _ = try? await admin.query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            _ = try? await admin.query("DROP ROLE IF EXISTS \(database)")
        }
        await admin.close()
    }

    let failures = BackgroundFailures.currentOrNew
    var system: TestSystem?
    do {
        for database in databases {
            // Each service's database is reachable with its own credentials only.
            _ = try await admin.query("CREATE ROLE \(database) LOGIN PASSWORD '\(database)'")
            _ = try await admin.query("CREATE DATABASE \(database) OWNER \(database)")
            _ = try await admin.query("REVOKE CONNECT, TEMPORARY ON DATABASE \(database) FROM PUBLIC")
        }
        let parameters = try adminConfiguration.connectionParameters()
        let host = parameters["host"] ?? "127.0.0.1"
        let port = parameters["port"] ?? "5432"
        func configuration(_ service: ServiceName, database: String) throws -> ServiceConfiguration {
            var configuration = try ServiceConfiguration(
                service: service,
                environment: [
                    "DATABASE_URL": "postgres://\(database):\(database)@\(host):\(port)/\(database)",
                    "DATABASE_POOL_SIZE": "4",
                    "AMQP_URL": amqpURL,
                    // Both services share the test broker's user here, so each accepts the other's events from it.
                    "CONSUMER_PUBLISHER_USER": try AMQPConfiguration(url: amqpURL).user,
                    "HTTP_PORT": "0",
                    "ADMIN_ADDRESS": "127.0.0.1:0",
                    "OPERATIONS_TOKEN": TestSystem.operationsToken,
                    "OUTBOX_POLL_INTERVAL_MS": "200",
                    // The shared broker logs a client in slowly while every test runs at once
                    // (over 5 s seen); a dead-letter operation's connection then answered 503.
                    "AMQP_CONNECT_TIMEOUT_MS": "15000",
                ])
            configuration.names = names
            configure(&configuration)
            return configuration
        }
        // The services declare their queues when their consumers connect, a moment after
        // the HTTP server listens; declaring them first (idempotently, with the same
        // arguments) means an event a test publishes right away is never unroutable.
        for (exchange, queue) in [(names.customerEvents, names.customerEventsQueue), (names.orderEvents, names.orderEventsQueue)] {
            try await broker.declare(ReplicationTopology.subscriber(exchange: exchange, queue: queue, names: names))
        }
        let customer = try configuration(.customerService, database: databases[0])
        let order = try configuration(.orderService, database: databases[1])
        system = TestSystem(
            id: id,
            names: names,
            configurations: [.customerService: customer, .orderService: order],
            broker: broker,
            customerService: RunningService(name: "customer-service", failures: failures, sourceLocation: sourceLocation) { listening in
                try await CustomerService.customerService.build(configuration: customer, logger: TestEnvironment.logger, listening: listening)
            },
            orderService: RunningService(name: "order-service", failures: failures, sourceLocation: sourceLocation) { listening in
                try await OrderService.orderService.build(configuration: order, logger: TestEnvironment.logger, listening: listening)
            }
        )
        if start, let system {
            try await system.customerService.start()
            try await system.orderService.start()
        }
        let value = try await failures.watch { try await body(system!) }
        await cleanUp(system)
        return value
    } catch {
        await cleanUp(system)
        throw error
    }
}
