import Contract
import Hummingbird
import Logging
import OpenAPIHummingbird
import Replication
import ServiceSupport

/// Builds OrderService: it owns orders (`orders`), publishes `order.created` to `order.events`,
/// and replicates `customer.created` into `replica_customers`, which it checks new orders against.
/// `order-service`'s `main` and the tests both call this; ``ReplicatingService`` wires it.
///
/// - Parameters:
///   - logger: the service's logger; by default made from the configuration (`LOG_LEVEL`).
///   - onServerRunning: called with the bound port once the public server listens
///     (tests pass `HTTP_PORT=0` and learn the port here).
///   - onAdminRunning: the same for the admin listener (`ADMIN_ADDRESS=127.0.0.1:0`).
public func buildOrderService(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    onAdminRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let service = ReplicatingService(
        migrations: OrderServiceMigrations.all,
        owns: OrderRecord.self,
        ownTable: "orders",
        exchange: \.orderEvents,
        subscription: .init(exchange: \.customerEvents, queue: \.customerEventsQueue),
        replica: ReplicaTable<CustomerRecord>(name: "replica_customers")
    ) { changes, replicaCustomers, logger in
        try buildOrderRouter(orders: OrderRepository(changes: changes, replicaCustomers: replicaCustomers), logger: logger)
    }
    return try await service.build(
        configuration: configuration, logger: logger, onServerRunning: onServerRunning, onAdminRunning: onAdminRunning)
}

/// The router of OrderService's API over `orders`, with the shared middleware
/// (the HTTP contract tests call it with a store of their own, and no server).
func buildOrderRouter(orders: some OrderStore, logger: Logger) throws -> Router<BasicRequestContext> {
    let router = ServiceRouter.make()
    try OrderAPIHandler(orders: orders, logger: logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    return router
}
