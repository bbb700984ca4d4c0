import CustomerService
import ServiceSupport

// customer-service: reads its configuration from the environment (see
// docs/configuration.md), then serves until SIGTERM or SIGINT and shuts down gracefully.
await runServiceMain(.customerService) { configuration, logger in
    try await customerService.build(configuration: configuration, logger: logger)
}
