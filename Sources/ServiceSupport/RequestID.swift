import Foundation
import HTTPTypes
import Hummingbird

/// The request id that follows a request through both services: the client's
/// `X-Request-ID` when it sent a usable one, otherwise a new UUID.
public enum RequestID {
    /// The current request's id, set by ``RequestIDMiddleware`` for the handler's task.
    @TaskLocal public static var current: String?

    /// The header's name.
    public static let headerName = HTTPField.Name("X-Request-ID")!

    /// `value` when it is 1...200 visible ASCII characters, otherwise nil.
    static func accept(_ value: String?) -> String? {
        guard let value, (1...200).contains(value.utf8.count),
              value.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else { return nil }
        return value
    }
}

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
