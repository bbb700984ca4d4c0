import Contract
import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime

/// The two listeners' share of the operations endpoints: the admin listener serves all of them
/// behind the operations token; the public listener serves only the health probes.
enum OperationsListener {
    /// The admin listener's router: the shared middleware, the token check, every operation.
    static func adminRouter(_ handler: OperationsHandler, token: String) throws -> Router<BasicRequestContext> {
        let router = ServiceRouter.make()
        router.add(middleware: BearerTokenMiddleware(token: token))
        try handler.registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
        return router
    }

    /// Adds the health probes (`/health/live`, `/health/ready`) to a public listener's `router`;
    /// the other operations stay off it (404).
    static func addHealth(_ handler: OperationsHandler, to router: Router<BasicRequestContext>) throws {
        try handler.registerHandlers(
            on: HealthOnlyTransport(router: router), configuration: .init(dateTranscoder: Timestamp.transcoder))
    }
}

/// A transport that registers only the `/health/*` operations on its router.
private struct HealthOnlyTransport: ServerTransport {
    let router: Router<BasicRequestContext>

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method, path: String
    ) throws {
        guard path.hasPrefix("/health/") else { return }
        try router.register(handler, method: method, path: path)
    }
}

/// Refuses every request but the probes and the scrape without `Authorization: Bearer <token>`:
/// 401 problem+json with `WWW-Authenticate: Bearer`. The token is compared in constant time.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let token: [UInt8]

    init(token: String) {
        self.token = Array(token.utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path == "/metrics" || path.hasPrefix("/health/") { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            return Self.unauthorized("this endpoint needs Authorization: Bearer <the service's operations token>")
        }
        guard Self.matches(header.dropFirst(7).utf8, token) else {
            return Self.unauthorized("the token is not this service's operations token")
        }
        return try await next(request, context)
    }

    /// True when `given` equals `expected`; the time taken depends only on `expected`'s length.
    static func matches(_ given: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
        let given = Array(given)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    private static func unauthorized(_ detail: String) -> Response {
        var response = Problem(code: "unauthorized", title: "Unauthorized", status: .unauthorized, detail: detail).response()
        response.headers[.wwwAuthenticate] = #"Bearer realm="operations""#
        return response
    }
}
