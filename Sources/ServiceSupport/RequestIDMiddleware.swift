import Foundation
import Hummingbird

/// Sets ``RequestID/current`` for the rest of the chain and returns it in the
/// response's `X-Request-ID`; the request's logger carries it as `request.id`.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs `next` with the request id set.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RequestID.accept(request.headers[RequestID.headerName]) ?? UUID().uuidString.lowercased()
        var context = context
        context.logger[metadataKey: "request.id"] = "\(id)"
        var response = try await RequestID.$current.withValue(id) {
            try await next(request, context)
        }
        response.headers[RequestID.headerName] = id
        return response
    }
}
