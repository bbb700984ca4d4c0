import Contract
import Foundation
import OrderAPI
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
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
    var logger = logger ?? Logger(label: configuration.service.rawValue)
    logger.logLevel = configuration.logLevel
    _ = ServiceMetrics.registry()
    let names = configuration.names
    let runtime = try await ServiceRuntime.make(
        configuration: configuration,
        migrations: OrderServiceMigrations.all,
        ownExchange: names.orderEvents,
        logger: logger
    )
    let router = ServiceRuntime.router()
    let handler = OrderAPIHandler(runtime: runtime, orders: OrderRepository(database: runtime.database, names: names))
    try handler.registerHandlers(
        on: router,
        configuration: .init(dateTranscoder: Timestamp.transcoder)
    )
    let consumer = runtime.consumer(exchange: names.customerEvents, queue: names.customerEventsQueue, handler: CustomerReplicaWriter())
    return runtime.application(router: router, services: [consumer], onServerRunning: onServerRunning)
}
