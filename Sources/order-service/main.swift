import OrderService
import Foundation
import Hummingbird
import Logging
import ServiceSupport

// order-service: reads its configuration from the environment (see the README),
// then serves until SIGTERM or SIGINT, and shuts down gracefully.
LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
let logger = Logger(label: "order-service")
do {
    let configuration = try ServiceConfiguration(service: .orderService, environment: ProcessInfo.processInfo.environment)
    let app = try await buildOrderService(configuration: configuration, logger: logger)
    try await app.runService()
} catch {
    logger.critical("order-service failed", metadata: ["error": "\(error)"])
    exit(1)
}
