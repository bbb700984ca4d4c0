import Contract
import Foundation
import Hummingbird
import Replication

/// `GET /replication/dead-letters`, `POST /replication/dead-letters/replay` and `…/discard` (DESIGN §9).
struct DeadLetterRoutes: Sendable {
    let deadLetters: DeadLetters

    /// `{"eventIds": [...]}`, `{"reason": "…"}` or `{"all": true}`: exactly one.
    struct SelectionBody: Decodable {
        var eventIds: [String]?
        var reason: String?
        var all: Bool?

        var selection: DeadLetterSelection? {
            switch (eventIds, reason, all) {
            case (let ids?, nil, nil) where !ids.isEmpty && ids.count <= 1000: .eventIds(Set(ids.map { $0.lowercased() }))
            case (nil, let reason?, nil) where !reason.isEmpty && reason.count <= 100: .reason(reason)
            case (nil, nil, true): .all
            default: nil
            }
        }
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/replication/dead-letters") { request, _ in
            let limit = try Parameters.limit(try Parameters.integer("limit", of: request))
            let (letters, total) = try await deadLetters.list(limit: limit)
            return DeadLettersBody(total: total, items: letters.map(DeadLettersBody.Item.init))
        }
        router.post("/replication/dead-letters/replay") { request, context in
            SettledBody(count: try await deadLetters.replay(try await Self.selection(request, context)), key: "replayed")
        }
        router.post("/replication/dead-letters/discard") { request, context in
            SettledBody(count: try await deadLetters.discard(try await Self.selection(request, context)), key: "discarded")
        }
    }

    private static func selection(_ request: Request, _ context: BasicRequestContext) async throws -> DeadLetterSelection {
        let body = try? await request.decode(as: SelectionBody.self, context: context)
        guard let selection = body?.selection else {
            throw Problem.validation([
                InvalidParameter(
                    name: "body", reason: #"must be one of {"eventIds": [1 to 1000 ids]}, {"reason": "<code>"}, {"all": true}"#)
            ])
        }
        return selection
    }
}

/// `DeadLetterList` of openapi.yaml.
struct DeadLettersBody: ResponseEncodable {
    struct Item: Encodable {
        var eventId: String?
        var type: String?
        var reason: String
        var detail: String?
        var at: String?
        var body: String

        init(_ letter: DeadLetter) {
            eventId = letter.eventId
            type = letter.type
            reason = letter.reason
            detail = letter.detail
            at = letter.at.map(Timestamp.format)
            body = letter.body
        }
    }

    /// All the messages in the dead-letter queue (`items` has the first `limit`).
    var total: Int
    var items: [Item]
}

/// `{"replayed": n}` or `{"discarded": n}`.
struct SettledBody: ResponseEncodable {
    var count: Int
    var key: String

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(count, forKey: DynamicKey(stringValue: key))
    }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
