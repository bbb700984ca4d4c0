import Contract
import Hummingbird
import Logging
import OpenAPIHummingbird
import Replication
import ServiceSupport

/// Builds CustomerService: it owns customers (`customers`), publishes `customer.created` to
/// `customer.events`, and replicates `order.created` into `replica_orders`.
/// `customer-service`'s `main` and the tests both call this; ``ReplicatingService`` wires it.
///
/// - Parameters:
///   - logger: the service's logger; by default made from the configuration (`LOG_LEVEL`).
///   - onServerRunning: called with the bound port once the public server listens
///     (tests pass `HTTP_PORT=0` and learn the port here).
///   - onAdminRunning: the same for the admin listener (`ADMIN_ADDRESS=127.0.0.1:0`).
public func buildCustomerService(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    onAdminRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let service = ReplicatingService(
        migrations: CustomerServiceMigrations.all,
        owns: CustomerRecord.self,
        ownTable: "customers",
        tombstoneTable: "deleted_customers",
        exchange: \.customerEvents,
        subscription: .init(exchange: \.orderEvents, queue: \.orderEventsQueue),
        replica: ReplicaTable<OrderRecord>(name: "replica_orders")
    ) { changes, replicaOrders, logger in
        try buildCustomerRouter(customers: CustomerRepository(changes: changes, replicaOrders: replicaOrders), logger: logger)
    }
    return try await service.build(
        configuration: configuration, logger: logger, onServerRunning: onServerRunning, onAdminRunning: onAdminRunning)
}

/// The router of CustomerService's API over `customers`, with the shared middleware
/// (the HTTP contract tests call it with a store of their own, and no server).
func buildCustomerRouter(customers: some CustomerStore, logger: Logger) throws -> Router<BasicRequestContext> {
    let router = ServiceRouter.make()
    try CustomerAPIHandler(customers: customers, logger: logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    return router
}
