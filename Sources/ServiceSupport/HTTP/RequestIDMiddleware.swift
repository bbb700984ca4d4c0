import Contract
import Foundation
import HTTPTypes
import Hummingbird
import Replication
import Tracing

/// Sets ``RequestID/current`` for the rest of the chain and returns it in the
/// response's `X-Request-ID`; the request's logger carries it as `request.id`. Sets
/// `TraceParent.current` too: the caller's `traceparent` continued, or a new trace (`trace.id`).
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs `next` with the request id set.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RequestID.accept(request.headers[RequestID.headerName]) ?? TimeOrderedUUID.make().uuidString.lowercased()
        // W3C trace context: the caller's trace, continued with a span of this service, or a new one.
        // With a tracer, the request's span (TracingMiddleware's) is that span.
        let trace =
            ServiceContext.current.flatMap(Spans.traceParent(of:))
            ?? (request.headers[RequestID.traceParentHeader].flatMap(TraceParent.init) ?? TraceParent.start()).child()
        var context = context
        context.logger[metadataKey: "request.id"] = "\(id)"
        context.logger[metadataKey: "trace.id"] = "\(trace.traceID)"
        var response = try await RequestID.$current.withValue(id) {
            try await TraceParent.$current.withValue(trace) {
                try await next(request, context)
            }
        }
        response.headers[RequestID.headerName] = id
        return response
    }
}
