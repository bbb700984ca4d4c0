import Contract
import CustomerAPI
import Hummingbird
import Logging
import OpenAPIHummingbird
import ServiceSupport

/// Builds CustomerService: migrates its database, and returns the application
/// that serves HTTP, publishes `customer.created` from the outbox and replicates
/// `order.created` into `replica_orders`. `customer-service`'s `main` and the
/// tests both call this.
///
/// - Parameter onServerRunning: called with the bound port once the server listens
///   (tests pass `HTTP_PORT=0` and learn the port here).
public func buildCustomerService(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let names = configuration.names
    return try await ServiceRuntime.buildApplication(
        configuration: configuration,
        logger: logger ?? Logger(label: configuration.service.rawValue),
        migrations: CustomerServiceMigrations.all,
        publishesTo: names.customerEvents,
        subscribesTo: (names.orderEvents, names.orderEventsQueue),
        replicaWriter: OrderReplicaWriter(),
        tables: (source: "customers", replica: "replica_orders"),
        onServerRunning: onServerRunning
    ) { router, runtime in
        try CustomerAPIHandler(runtime: runtime, customers: CustomerRepository(database: runtime.database, names: names))
            .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    }
}
