import AMQP
import Contract
import CustomerAPI
import Hummingbird
import Logging
import OpenAPIHummingbird
import Replication
import ServiceSupport

/// Builds CustomerService: it owns customers, publishes `customer.created` from its outbox,
/// and replicates `order.created` into `replica_orders`. `customer-service`'s `main` and the
/// tests both call this.
///
/// - Parameters:
///   - logger: the service's logger; by default made from the configuration (`LOG_LEVEL`).
///   - onServerRunning: called with the bound port once the server listens
///     (tests pass `HTTP_PORT=0` and learn the port here).
public func buildCustomerService(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.makeLogger()
    let names = configuration.names
    ServiceMetrics.bootstrap()

    // The database pool, with the schema migrated (start-up waits for the database).
    let database = try await ServiceDatabase.connect(
        configuration.database, migrations: CustomerServiceMigrations.all, retry: configuration.retry, logger: logger
    )
    // Events go out through the outbox: the publisher, the relay that feeds it, and the change log
    // in which the repository records each change with its event.
    let publisher = AMQPPublisher(
        configuration: configuration.amqp,
        topology: ReplicationTopology.publisher(exchange: names.customerEvents, names: names),
        logger: logger
    )
    let relay = OutboxRelay(configuration: configuration.relay, database: database, publisher: publisher, logger: logger)
    let changes = ChangeLog(database: database, exchange: names.customerEvents, relay: relay)
    // Orders come in through the subscription to order.events, into the replica of orders.
    let replicaOrders = ReplicaTable<OrderRecord>(name: "replica_orders")
    let consumer = ReplicaConsumer(
        configuration: configuration.consumer(of: names.orderEvents, through: names.orderEventsQueue),
        amqp: configuration.amqp, database: database, publisher: publisher, handler: replicaOrders, logger: logger
    )
    // The HTTP API, and the operations endpoints.
    let router = try buildCustomerRouter(customers: CustomerRepository(changes: changes, replicaOrders: replicaOrders), logger: logger)
    OperationsRoutes(
        service: configuration.service.rawValue, database: database, publisher: publisher,
        ownTable: "customers", replicaTable: replicaOrders.name
    ).register(on: router)

    return buildServiceApplication(
        configuration: configuration,
        router: router,
        services: [database, DatabasePoolMetrics(database: database), publisher, relay, consumer],
        logger: logger,
        onServerRunning: onServerRunning
    )
}

/// The router of CustomerService's API over `customers`, with the shared middleware
/// (the HTTP contract tests call it with a store of their own, and no server).
func buildCustomerRouter(customers: some CustomerStore, logger: Logger) throws -> Router<BasicRequestContext> {
    let router = ServiceRouter.make()
    try CustomerAPIHandler(customers: customers, logger: logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    return router
}
