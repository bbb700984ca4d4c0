import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A router under test, driven without a server (Hummingbird's `.router` testing).
struct RouterClient {
    /// What the router answered.
    struct Response {
        var status: Int
        var headers: HTTPFields
        var body: Data

        /// The body as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The names in a problem's `invalid-params`.
        var invalidParameterNames: [String] {
            (json["invalid-params"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        /// The problem's `type`.
        var problemType: String? { json["type"] as? String }
        /// The `Content-Type` header.
        var contentType: String? { headers[.contentType] }
    }

    let router: Router<BasicRequestContext>

    static let logger: Logger = {
        var logger = Logger(label: "http-contract-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Sends one request; `body` is sent as JSON.
    func send(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Response {
        var fields = HTTPFields()
        if body != nil { fields[.contentType] = "application/json" }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let requestHeaders = fields
        return try await Application(router: router, logger: Self.logger).test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: requestHeaders, body: body.map { ByteBuffer(string: $0) }) { response in
                Response(status: Int(response.status.code), headers: response.headers, body: Data(buffer: response.body))
            }
        }
    }
}
