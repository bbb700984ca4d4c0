import Contract
import Foundation
import Hummingbird
import Replication

/// `GET /trace/{requestId}` (DESIGN §10): what this service did for a request.
struct TraceRoutes: Sendable {
    let trace: Trace

    func register(on router: Router<BasicRequestContext>) {
        router.get("/trace/{requestId}") { _, context in
            let text = context.parameters.get("requestId") ?? ""
            // The path parameter arrives percent-decoded; a request id is what X-Request-ID accepts.
            guard let requestId = RequestID.accept(text.removingPercentEncoding ?? text) else {
                throw Problem.validation([InvalidParameter(name: "requestId", reason: "must be 1 to 200 visible ASCII characters")])
            }
            return TraceBody(requestId: requestId, hops: try await trace.hops(of: requestId))
        }
    }
}

/// `Trace` of openapi.yaml.
struct TraceBody: ResponseEncodable {
    var requestId: String
    /// In time order; empty when the service knows nothing of the request.
    var hops: [TraceHop]
}

/// A hop of `Trace`: lowercase ids, the contract's times, absent fields left out.
extension TraceHop: Encodable {
    enum CodingKeys: String, CodingKey {
        case at, service, step, entity, id, version, eventId, detail
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Timestamp.format(at), forKey: .at)
        try container.encode(service, forKey: .service)
        try container.encode(step.rawValue, forKey: .step)
        try container.encodeIfPresent(entity, forKey: .entity)
        try container.encodeIfPresent(id?.lowercased, forKey: .id)
        try container.encodeIfPresent(version, forKey: .version)
        try container.encodeIfPresent(eventId, forKey: .eventId)
        try container.encodeIfPresent(detail, forKey: .detail)
    }
}
