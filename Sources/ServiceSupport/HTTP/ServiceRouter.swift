import Hummingbird
import Replication

/// The router every service starts from.
public enum ServiceRouter {
    /// A router with the shared middleware: request ids, problem+json errors, HTTP metrics,
    /// the request limits, and `Location` and `ETag` headers sent as set. Add the service's API and ``OperationsRoutes``.
    public static func make() -> Router<BasicRequestContext> {
        let router = Router()
        if Spans.areRecorded {
            // The request's server span, continuing the caller's `traceparent`; the request id is an attribute.
            router.add(middleware: RequestSpanMiddleware())
        }
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: RequestLimitsMiddleware())
        router.add(middleware: VerbatimHeadersMiddleware())
        return router
    }
}

/// Hummingbird's `TracingMiddleware` for the API's requests; the probes and scrapes of
/// `/health/*` and `/metrics`, several a second in a deployment, get no span.
struct RequestSpanMiddleware<Context: RequestContext>: RouterMiddleware {
    private let tracing = TracingMiddleware<Context>(recordingHeaders: [RequestID.headerName])

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path == "/metrics" || path.hasPrefix("/health/") { return try await next(request, context) }
        return try await tracing.handle(request, context: context, next: next)
    }
}
