import Hummingbird
import Metrics
import Synchronization

/// Counts requests by route and status (`http_requests_total`) and records their
/// latency (`http_request_duration_seconds`); the route is the matched pattern
/// (`/customers/{id}`), never the raw path, so ids do not explode the label set.
///
/// Each series' counter and timer are made once, on its first request, and kept: making them
/// asks the metrics registry, under its lock, to find the series by its labels.
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let series = SeriesCache()

    /// Creates the middleware.
    public init() {}

    /// Runs `next` and records what it did.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let (counter, timer) = series.metrics(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status)
            counter.increment()
            timer.recordInterval(since: started)
        }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }
}

/// The counter and timer of each (method, route, status) seen so far.
private final class SeriesCache: Sendable {
    private struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private let made = Mutex<[Key: (counter: Counter, timer: Metrics.Timer)]>([:])

    func metrics(method: String, route: String, status: Int) -> (counter: Counter, timer: Metrics.Timer) {
        let key = Key(method: method, route: route, status: status)
        return made.withLock { made in
            if let series = made[key] { return series }
            let dimensions = [("method", method), ("route", route)]
            let series = (
                counter: Counter(label: "http_requests_total", dimensions: dimensions + [("status", "\(status)")]),
                timer: Metrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions)
            )
            made[key] = series
            return series
        }
    }
}
