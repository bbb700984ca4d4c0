import AsyncHTTPClient
import Contract
import Foundation
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime
import ServiceClient

/// The generated clients of CustomerService and OrderService, over one HTTP client: each
/// service's public listener (the domain API) and its admin listener (the operations, with the
/// operations token).
public struct ServiceClients: Sendable {
    /// CustomerService's base URL.
    public let customerServiceURL: URL
    /// OrderService's base URL.
    public let orderServiceURL: URL
    /// CustomerService's admin listener.
    public let customerServiceAdminURL: URL
    /// OrderService's admin listener.
    public let orderServiceAdminURL: URL
    /// Whether the operations calls carry a token.
    public let hasToken: Bool
    /// Calls CustomerService.
    public let customers: Client
    /// Calls OrderService.
    public let orders: Client
    /// Calls CustomerService's admin listener.
    public let customerOperations: Client
    /// Calls OrderService's admin listener.
    public let orderOperations: Client

    /// Clients of the two services over `httpClient`, with a per-request `timeout`; the operations
    /// go to the admin URLs (by default the public host on port 9081 / 9082) with `token`.
    public init(
        customerServiceURL: URL, orderServiceURL: URL, customerServiceAdminURL: URL? = nil, orderServiceAdminURL: URL? = nil,
        token: String? = nil, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(10)
    ) {
        self.customerServiceURL = customerServiceURL
        self.orderServiceURL = orderServiceURL
        self.customerServiceAdminURL = customerServiceAdminURL ?? URL(string: "http://127.0.0.1:9081")!
        self.orderServiceAdminURL = orderServiceAdminURL ?? URL(string: "http://127.0.0.1:9082")!
        hasToken = token != nil
        let transport = AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: .nanoseconds(timeout.nanoseconds)))
        let configuration = Configuration(dateTranscoder: Timestamp.transcoder)
        customers = Client(serverURL: customerServiceURL, configuration: configuration, transport: transport)
        orders = Client(serverURL: orderServiceURL, configuration: configuration, transport: transport)
        let middlewares: [any ClientMiddleware] = token.map { [BearerToken(token: $0)] } ?? []
        customerOperations = Client(
            serverURL: self.customerServiceAdminURL, configuration: configuration, transport: transport, middlewares: middlewares)
        orderOperations = Client(serverURL: self.orderServiceAdminURL, configuration: configuration, transport: transport, middlewares: middlewares)
    }
}

/// Sends `Authorization: Bearer <token>` with every call.
struct BearerToken: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// A failed call, said in one line: the service was unreachable, or it answered with a problem.
public struct ClientFailure: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The HTTP status, when the service answered.
    public var status: Int?
    /// The problem's `type`, when the service answered with one.
    public var type: String?
    /// The line to show.
    public var message: String

    /// The line to show.
    public var description: String { message }
    /// The line to show.
    public var errorDescription: String? { message }

    /// A problem+json answer.
    static func problem(_ problem: Components.Schemas.Problem, service: String) -> ClientFailure {
        var message = "\(service) answered \(problem.status) \(problem.title)"
        if let detail = problem.detail { message += ": \(detail)" }
        if problem.status == 401 { message += " (the operations token comes from OPERATIONS_TOKEN or --token-file)" }
        return ClientFailure(status: problem.status, type: problem._type, message: message)
    }

    /// An answer the contract does not document.
    static func undocumented(_ status: Int, service: String) -> ClientFailure {
        ClientFailure(status: status, type: nil, message: "\(service) answered with an unexpected status \(status)")
    }

    /// The service could not be reached (or the call failed on the way).
    static func unreachable(_ error: any Error, service: String, url: URL) -> ClientFailure {
        if let failure = error as? ClientFailure { return failure }
        let cause = (error as? ClientError)?.underlyingError ?? error
        return ClientFailure(status: nil, type: nil, message: "cannot reach \(service) at \(url.absoluteString): \(cause)")
    }
}
