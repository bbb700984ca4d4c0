import Hummingbird
import Metrics

/// Counts requests by route and status (`http_requests_total`) and records their
/// latency (`http_request_duration_seconds`); the route is the matched pattern
/// (`/customers/{id}`), never the raw path, so ids do not explode the label set.
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs `next` and records what it did.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let route = context.endpointPath ?? "unmatched"
            let dimensions = [("method", request.method.rawValue), ("route", route)]
            Counter(label: "http_requests_total", dimensions: dimensions + [("status", "\(status)")]).increment()
            Metrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions).recordInterval(since: started)
        }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }
}
