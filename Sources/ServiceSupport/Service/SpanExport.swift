import Contract
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The export of the services' spans by OTLP (docs/design.md#trace), on when `OTEL_EXPORTER_OTLP_ENDPOINT`
/// (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and not empty, with swift-otel's OTLP/HTTP
/// exporter. The spans: each request's (`/health/*` and `/metrics` have none), its change's
/// transaction, the relay's publish of a batch (linked to each transaction in it), and each
/// event's apply at the peer (a child of the transaction): one trace per request across both services.
///
/// Every other `OTEL_*` variable of the OpenTelemetry specification that swift-otel reads applies
/// (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_SCHEDULE_DELAY`, …); the service name
/// defaults to the service's. Only traces are exported: logs go to standard error and metrics to
/// `/metrics`, as without it.
enum SpanExport {
    /// The variables that switch the export on: either names the collector.
    static let endpointVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    /// The variable that names the service in its spans.
    static let serviceNameVariable = "OTEL_SERVICE_NAME"
    /// The variables read here; swift-otel reads the specification's others itself.
    static let environmentVariables = endpointVariables + [serviceNameVariable]

    /// Bootstraps the process's tracer when an endpoint is set, and returns the service that
    /// exports the spans (run it last to stop, so the final spans are flushed); nil otherwise.
    static func bootstrap(for service: ServiceName, environment: [String: String], logger: Logger) throws -> (any Service)? {
        // Empty is unset: compose passes `${OTEL_EXPORTER_OTLP_ENDPOINT:-}` through.
        let endpoints = endpointVariables.compactMap { environment[$0] }
        guard endpoints.contains(where: { !$0.isEmpty }) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = service.rawValue
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        logger.info("exporting spans by OTLP", metadata: ["otel.service_name": "\(environment[serviceNameVariable] ?? service.rawValue)"])
        return backend.service
    }
}
