import CustomerService
import Foundation
import Hummingbird
import Logging
import ServiceSupport

// customer-service: reads its configuration from the environment (see the README),
// then serves until SIGTERM or SIGINT, and shuts down gracefully.
LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
let configuration: ServiceConfiguration
do {
    configuration = try ServiceConfiguration(service: .customerService, environment: ProcessInfo.processInfo.environment)
} catch {
    Logger(label: "customer-service").critical("invalid configuration", metadata: ["error": "\(error)"])
    exit(1)
}
let logger = configuration.makeLogger()
do {
    let app = try await buildCustomerService(configuration: configuration, logger: logger)
    try await app.runService()
} catch {
    logger.critical("customer-service failed", metadata: ["error": "\(error)"])
    exit(1)
}
