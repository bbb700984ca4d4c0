import Contract
import Foundation
import Hummingbird
import Replication

/// `POST /replication/resync` and `GET /replication/resync/{id}` (DESIGN §8) on a source.
struct ResyncRoutes: Sendable {
    let resync: any ResyncJobs

    /// `{"subscriber": "order-service", "ids": [...]}`.
    struct Request: Decodable {
        var subscriber: String
        var ids: [String]?
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/replication/resync") { request, context -> EditedResponse<ResyncJob> in
            let body: Request
            do {
                body = try await request.decode(as: Request.self, context: context)
            } catch {
                throw Problem.validation([InvalidParameter(name: "body", reason: "must be {\"subscriber\": name, \"ids\": [UUID, …] (optional)}")])
            }
            let invalid = Self.subscriberRule(body.subscriber)
            var ids: [UUID]?
            var invalidIds: [InvalidParameter] = []
            if let texts = body.ids {
                ids = texts.enumerated().compactMap { index, text in
                    let (id, invalid) = FieldRules.uuid(text, field: "ids[\(index)]")
                    invalidIds += invalid
                    return id
                }
                if texts.isEmpty { invalidIds.append(InvalidParameter(name: "ids", reason: "must name at least one id, or be left out for all")) }
                if texts.count > 1000 { invalidIds.append(InvalidParameter(name: "ids", reason: "at most 1000 ids a job")) }
            }
            guard invalid.isEmpty, invalidIds.isEmpty else { throw Problem.validation(invalid + invalidIds) }
            let job: ResyncJob
            do {
                job = try await resync.start(subscriber: body.subscriber, ids: ids)
            } catch ResyncError.alreadyRunning(let subscriber) {
                throw Problem(
                    code: "resync-running", title: "A resync for this subscriber is running", status: .conflict,
                    detail: "a resync to \(subscriber) is running; wait for it to end (GET /replication/resync/{id})")
            }
            var headers = HTTPFields()
            headers[.location] = "/replication/resync/\(job.id.lowercased)"
            return EditedResponse(status: .accepted, headers: headers, response: job)
        }
        router.get("/replication/resync/{id}") { _, context in
            let id = try Parameters.id(context.parameters.get("id") ?? "")
            guard let job = try await resync.job(id: id) else { throw Problem.notFound("no resync job \(id.lowercased)") }
            return job
        }
    }

    /// A subscriber is a service name: lowercase letters, digits and dashes, as in its queue's name.
    static func subscriberRule(_ name: String) -> [InvalidParameter] {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard allowed, (1...100).contains(name.count), name.first != "-" else {
            return [InvalidParameter(name: "subscriber", reason: "must be a service name: 1 to 100 of a-z, 0-9 and -, such as order-service")]
        }
        return []
    }
}

/// `ResyncJob` of openapi.yaml: lowercase ids, the contract's times.
extension ResyncJob: ResponseEncodable {
    enum CodingKeys: String, CodingKey {
        case id, subscriber, state, total, sent, error, startedAt, finishedAt
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(subscriber, forKey: .subscriber)
        try container.encode(state.rawValue, forKey: .state)
        try container.encode(total, forKey: .total)
        try container.encode(sent, forKey: .sent)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encode(Timestamp.format(startedAt), forKey: .startedAt)
        try container.encodeIfPresent(finishedAt.map { Timestamp.format($0) }, forKey: .finishedAt)
    }
}
