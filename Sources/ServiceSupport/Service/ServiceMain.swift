import Contract
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// What a service's `main` does: logs to standard error, reads the configuration of `service`
/// from the environment, builds the application with `build` and runs it until SIGTERM or
/// SIGINT. A bad setting or a failed start is one critical log line and exit status 1.
public func runServiceMain<App: ApplicationProtocol>(
    _ service: ServiceName,
    build: (ServiceConfiguration, Logger) async throws -> App
) async -> Never {
    LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
    let configuration: ServiceConfiguration
    do {
        configuration = try ServiceConfiguration(service: service, environment: ProcessInfo.processInfo.environment)
    } catch {
        Logger(label: service.rawValue).critical("invalid configuration", metadata: ["error": "\(error)"])
        exit(1)
    }
    let logger = configuration.makeLogger()
    do {
        // Before the build: the relay and the consumers look once at which tracer there is.
        let spanExport = try SpanExport.bootstrap(for: service, environment: ProcessInfo.processInfo.environment, logger: logger)
        let app = try await build(configuration, logger)
        if let spanExport {
            // The exporter stops last (a group stops in reverse order), flushing the last spans.
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: spanExport), .init(service: app)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
        } else {
            try await app.runService()
        }
    } catch {
        logger.critical("service failed", metadata: ["service": "\(service.rawValue)", "error": "\(error)"])
        exit(1)
    }
    exit(0)
}
