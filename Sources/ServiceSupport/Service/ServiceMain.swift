import Contract
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// What a service's `main` does: logs to standard error, reads the configuration of `service`
/// from the environment, builds the application with `build` and runs it until SIGTERM or
/// SIGINT. A bad setting or a failed start is one critical log line and exit status 1.
///
/// Swift's tasks run on the event loops that serve HTTP (SwiftNIO's singleton group takes the
/// place of the global concurrent executor): a request's handler then runs on the thread that
/// read it, instead of waking a thread of another pool and waking the event loop again to answer.
/// Nothing may block a task, as before; libpq and the AMQP client run on threads of their own.
public func runServiceMain<App: ApplicationProtocol>(
    _ service: ServiceName,
    build: (ServiceConfiguration, Logger) async throws -> App
) async -> Never {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
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
