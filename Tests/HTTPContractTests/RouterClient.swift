import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

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

/// Expects a 400 problem whose `invalid-params` are exactly `names`.
func expectInvalidParameters(_ response: RouterClient.Response, _ names: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == 400, sourceLocation: sourceLocation)
    #expect(response.invalidParameterNames == names, sourceLocation: sourceLocation)
}

/// Expects a 400 problem+json whose `invalid-params` and `detail` name `field` (among others).
func expectInvalidBody(_ response: RouterClient.Response, naming field: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == 400, sourceLocation: sourceLocation)
    #expect(response.contentType == "application/problem+json", sourceLocation: sourceLocation)
    #expect(
        response.invalidParameterNames.contains(field), "invalid-params \(response.invalidParameterNames) should name \(field)",
        sourceLocation: sourceLocation)
    #expect((response.json["detail"] as? String)?.contains(field) == true, sourceLocation: sourceLocation)
}
