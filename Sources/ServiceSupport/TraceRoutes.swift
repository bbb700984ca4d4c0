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
            return TraceBody(requestId: requestId, hops: try await trace.hops(of: requestId).map(TraceBody.Hop.init))
        }
    }
}

/// `Trace` of openapi.yaml.
struct TraceBody: ResponseEncodable {
    struct Hop: Encodable {
        var at: String
        var service: String
        var step: String
        var entity: String?
        var id: String?
        var version: Int64?
        var eventId: String?
        var detail: String?

        init(_ hop: TraceHop) {
            at = Timestamp.format(hop.at)
            service = hop.service
            step = hop.step.rawValue
            entity = hop.entity
            id = hop.id?.lowercased
            version = hop.version
            eventId = hop.eventId
            detail = hop.detail
        }
    }

    var requestId: String
    /// In time order; empty when the service knows nothing of the request.
    var hops: [Hop]
}
