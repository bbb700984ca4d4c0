import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A raw HTTP answer, for checks the generated client cannot make (status codes,
/// content types, problem bodies, invalid requests).
struct RawResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    /// The names in a problem's `invalid-params`.
    var invalidParameterNames: [String] {
        (json["invalid-params"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }
}

/// Sends one request with AsyncHTTPClient's shared client.
func send(
    _ method: HTTPMethod, _ url: URL, path: String, body: String? = nil, headers: [(String, String)] = []
) async throws -> RawResponse {
    var request = HTTPClientRequest(url: url.absoluteString + path)
    request.method = method
    if let body {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return RawResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
}
