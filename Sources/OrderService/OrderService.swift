import Contract
import Hummingbird
import Logging
import OpenAPIHummingbird
import OrderAPI
import ServiceSupport

/// Builds OrderService: migrates its database, and returns the application
/// that serves HTTP, publishes `order.created` from the outbox and replicates
/// `customer.created` into `replica_customers`. `order-service`'s `main` and the
/// tests both call this.
///
/// - Parameter onServerRunning: called with the bound port once the server listens
///   (tests pass `HTTP_PORT=0` and learn the port here).
public func buildOrderService(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let names = configuration.names
    return try await ServiceRuntime.buildApplication(
        configuration: configuration,
        logger: logger ?? Logger(label: configuration.service.rawValue),
        migrations: OrderServiceMigrations.all,
        publishesTo: names.orderEvents,
        subscribesTo: (names.customerEvents, names.customerEventsQueue),
        replicaWriter: CustomerReplicaWriter(),
        tables: (source: "orders", replica: "replica_customers"),
        onServerRunning: onServerRunning
    ) { router, runtime in
        try OrderAPIHandler(runtime: runtime, orders: OrderRepository(database: runtime.database, names: names))
            .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    }
}
