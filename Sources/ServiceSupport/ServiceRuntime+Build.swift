import Hummingbird
import Logging
import Postgres
import Replication

extension ServiceRuntime {
    /// Builds a replicating service: migrates its database, wires pool, publisher,
    /// relay and the consumer of its subscription, and returns the application that
    /// serves the operations endpoints plus the API that `registerAPI` adds.
    ///
    /// - Parameters:
    ///   - migrations: the service's own migrations (after the shared replication tables).
    ///   - publishesTo: the exchange its outbox publishes to.
    ///   - subscribesTo: the exchange it replicates from, and its queue.
    ///   - replicaWriter: applies the subscription's events to the replica.
    ///   - tables: its own table (`source`) and its replica of the peer's (`replica`), for the status.
    ///   - onServerRunning: called with the bound port once the server listens (tests pass port 0).
    ///   - registerAPI: adds the service's generated handlers to the router.
    public static func buildApplication<Writer: ReplicaEventHandler>(
        configuration: ServiceConfiguration,
        logger: Logger,
        migrations: [Migration],
        publishesTo: String,
        subscribesTo subscription: (exchange: String, queue: String),
        replicaWriter: Writer,
        tables: (source: String, replica: String),
        onServerRunning: @escaping @Sendable (Int) async -> Void,
        registerAPI: (Router<BasicRequestContext>, ServiceRuntime) throws -> Void
    ) async throws -> some ApplicationProtocol {
        var logger = logger
        logger.logLevel = configuration.logLevel
        _ = ServiceMetrics.registry()
        let runtime = try await make(configuration: configuration, migrations: migrations, ownExchange: publishesTo, logger: logger)
        let router = router()
        OperationsRoutes.register(on: router, runtime: runtime, replicaTable: tables.replica, sourceTable: tables.source)
        try registerAPI(router, runtime)
        let consumer = runtime.consumer(exchange: subscription.exchange, queue: subscription.queue, handler: replicaWriter)
        return runtime.application(router: router, services: [consumer], onServerRunning: onServerRunning)
    }
}
