import Hummingbird
import Logging
import ServiceLifecycle

/// The Hummingbird application of a service: its HTTP server on `configuration.http`, and its
/// long-running parts in `services`.
///
/// The HTTP server runs last in the service group, so on SIGTERM it stops first; then the
/// other services stop in reverse order. Pass them in start order: the pool first (it closes
/// last), then what uses it (publisher, relay, consumer).
public func buildServiceApplication(
    configuration: ServiceConfiguration,
    router: Router<BasicRequestContext>,
    services: [any Service],
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void
) -> some ApplicationProtocol {
    Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.http.host, port: configuration.http.port),
            serverName: configuration.service.rawValue
        ),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger
    )
}
