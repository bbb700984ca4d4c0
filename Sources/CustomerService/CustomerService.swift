import Contract
import CustomerAPI
import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
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
    var logger = logger ?? Logger(label: configuration.service.rawValue)
    logger.logLevel = configuration.logLevel
    _ = ServiceMetrics.registry()
    let names = configuration.names
    let runtime = try await ServiceRuntime.make(
        configuration: configuration,
        migrations: CustomerServiceMigrations.all,
        ownExchange: names.customerEvents,
        logger: logger
    )
    let router = ServiceRuntime.router()
    let handler = CustomerAPIHandler(runtime: runtime, customers: CustomerRepository(database: runtime.database, names: names))
    try handler.registerHandlers(
        on: router,
        configuration: .init(dateTranscoder: Timestamp.transcoder)
    )
    let consumer = runtime.consumer(exchange: names.orderEvents, queue: names.orderEventsQueue, handler: OrderReplicaWriter())
    return runtime.application(router: router, services: [consumer], onServerRunning: onServerRunning)
}
