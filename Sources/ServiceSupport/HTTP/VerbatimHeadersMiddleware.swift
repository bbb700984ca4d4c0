import HTTPTypes
import Hummingbird

/// Restores the `Location` and `ETag` headers of a response to the values the handler set.
///
/// swift-openapi-runtime percent-encodes every header value it serializes, so
/// `/customers/<id>` would go out as `%2Fcustomers%2F<id>`, which no client resolves, and
/// the entity tag `"3"` as `%223%22`, which no `If-Match` would ever match; both must be
/// sent as they are.
public struct VerbatimHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The headers sent as the handler set them.
    static var names: [HTTPField.Name] { [.location, .eTag] }

    /// Creates the middleware.
    public init() {}

    /// Runs `next` and decodes its `Location` and `ETag` headers.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for name in Self.names {
            if let value = response.headers[name], let decoded = value.removingPercentEncoding {
                response.headers[name] = decoded
            }
        }
        return response
    }
}
