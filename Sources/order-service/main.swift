import OrderService
import ServiceSupport

// order-service: reads its configuration from the environment (see
// docs/configuration.md), then serves until SIGTERM or SIGINT and shuts down gracefully.
await runServiceMain(.orderService) { configuration, logger in
    try await orderService.build(configuration: configuration, logger: logger)
}
