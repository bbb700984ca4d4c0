import HTTPTypes
import Hummingbird

/// Restores the `Location` header of a response to the URI reference the handler set.
///
/// swift-openapi-runtime percent-encodes every header value it serializes, so
/// `/customers/<id>` would go out as `%2Fcustomers%2F<id>`, which no client
/// resolves; a URI reference must be sent as it is.
public struct LocationHeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs `next` and decodes its `Location` header.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let location = response.headers[.location], let decoded = location.removingPercentEncoding {
            response.headers[.location] = decoded
        }
        return response
    }
}
