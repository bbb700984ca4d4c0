import AMQP
import Contract
import Hummingbird
import Logging
import OpenAPIHummingbird
import OrderAPI
import Replication
import ServiceSupport

/// Builds OrderService: it owns orders, publishes `order.created` from its outbox, and
/// replicates `customer.created` into `replica_customers`, which it checks new orders against.
/// `order-service`'s `main` and the tests both call this.
///
/// - Parameters:
///   - logger: the service's logger; by default made from the configuration (`LOG_LEVEL`).
///   - onServerRunning: called with the bound port once the server listens
///     (tests pass `HTTP_PORT=0` and learn the port here).
public func buildOrderService(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.makeLogger()
    let names = configuration.names
    ServiceMetrics.bootstrap()

    // The database pool, with the schema migrated (start-up waits for the database).
    let database = try await ServiceDatabase.connect(
        configuration.database, migrations: OrderServiceMigrations.all, retry: configuration.retry, logger: logger
    )
    // Events go out through the outbox: the publisher, the relay that feeds it, and the change log
    // in which the repository records each change with its event.
    let publisher = AMQPPublisher(
        configuration: configuration.amqp,
        topology: ReplicationTopology.publisher(exchange: names.orderEvents, names: names),
        logger: logger
    )
    let relay = OutboxRelay(configuration: configuration.relay, database: database, publisher: publisher, logger: logger)
    let changes = ChangeLog(database: database, exchange: names.orderEvents, relay: relay)
    // Customers come in through the subscription to customer.events, into the replica of customers.
    let replicaCustomers = ReplicaTable<CustomerRecord>(name: "replica_customers")
    let consumer = ReplicaConsumer(
        configuration: configuration.consumer(of: names.customerEvents, through: names.customerEventsQueue),
        amqp: configuration.amqp, database: database, publisher: publisher, handler: replicaCustomers, logger: logger
    )
    // The HTTP API, and the operations endpoints.
    let router = try buildOrderRouter(orders: OrderRepository(changes: changes, replicaCustomers: replicaCustomers), logger: logger)
    OperationsRoutes(
        service: configuration.service.rawValue, database: database, publisher: publisher,
        ownTable: "orders", replicaTable: replicaCustomers.name
    ).register(on: router)

    return buildServiceApplication(
        configuration: configuration,
        router: router,
        services: [database, DatabasePoolMetrics(database: database), publisher, relay, consumer],
        logger: logger,
        onServerRunning: onServerRunning
    )
}

/// The router of OrderService's API over `orders`, with the shared middleware
/// (the HTTP contract tests call it with a store of their own, and no server).
func buildOrderRouter(orders: some OrderStore, logger: Logger) throws -> Router<BasicRequestContext> {
    let router = ServiceRouter.make()
    try OrderAPIHandler(orders: orders, logger: logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    return router
}
