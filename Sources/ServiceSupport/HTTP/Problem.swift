import Contract
import Foundation
import HTTPTypes
import Hummingbird
import Replication

/// An error a handler throws to answer with an RFC 9457 problem; ``ProblemMiddleware``
/// renders it as `application/problem+json`.
public struct Problem: Error, Sendable, Encodable, CustomStringConvertible {
    /// A stable code, the last path segment of `type` (`validation`, `not-found`, ...).
    public var code: String
    /// A short summary that does not change between occurrences.
    public var title: String
    /// The HTTP status.
    public var status: Int
    /// What went wrong this time.
    public var detail: String?
    /// The fields that are invalid.
    public var invalidParams: [InvalidParameter]
    /// Members of this kind of problem beyond RFC 9457's (for a deleted replica record: its
    /// `id`, `version`, `deletedAt` and `replicatedAt`), in the order they are encoded.
    public var members: KeyValuePairs<String, Member> = [:]

    /// Creates a problem.
    public init(code: String, title: String, status: HTTPResponse.Status, detail: String? = nil, invalidParams: [InvalidParameter] = []) {
        self.code = code
        self.title = title
        self.status = status.code
        self.detail = detail
        self.invalidParams = invalidParams
    }

    /// `type`: a URI reference ending in the code.
    public var type: String { "/problems/\(code)" }

    /// `status code: detail`.
    public var description: String { "\(status) \(code): \(detail ?? title)" }

    /// 400, naming every invalid field.
    public static func validation(_ invalid: [InvalidParameter]) -> Problem {
        Problem(code: "validation", title: "The request is invalid", status: .badRequest, detail: invalid.summary, invalidParams: invalid)
    }

    /// A value of an extension member: a string or an integer.
    public enum Member: Sendable, Encodable {
        case string(String)
        case integer(Int64)

        /// Encodes the bare value.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            }
        }
    }

    /// 404.
    public static func notFound(_ what: String) -> Problem {
        Problem(code: "not-found", title: "No such record", status: .notFound, detail: what)
    }

    /// 410 `replica-deleted`: the replica holds only the tombstone of record `id`. Its members
    /// say which version deleted it, when, and when the replica learnt it (`replicatedAt`: how
    /// long the deletion took to arrive, to the millisecond, whenever a client reads it).
    public static func replicaDeleted(_ tombstone: Replicated<Tombstone>) -> Problem {
        var problem = Problem(
            code: "replica-deleted", title: "The record was deleted", status: .gone,
            detail: "\(tombstone.record.id.lowercased) was deleted at its source, and the deletion has been replicated")
        problem.members = [
            "id": .string(tombstone.record.id.lowercased), "version": .integer(tombstone.record.version),
            "deletedAt": .string(Timestamp.format(tombstone.record.deletedAt)), "replicatedAt": .string(Timestamp.format(tombstone.replicatedAt)),
        ]
        return problem
    }

    /// 422: the same Idempotency-Key was used with a different request.
    public static let idempotencyKeyReused = Problem(
        code: "idempotency-key-reused",
        title: "Idempotency-Key reused with a different request",
        status: .unprocessableContent,
        detail: "this Idempotency-Key was first used with another request body; use a new key for a new request"
    )

    /// 409: the first request with this Idempotency-Key is still being processed.
    public static let idempotencyKeyInProgress = Problem(
        code: "idempotency-key-in-progress",
        title: "A request with this Idempotency-Key is in progress",
        status: .conflict,
        detail: "retry when the first request with this key has finished"
    )

    /// 503: the database is unreachable, or refused the work for now (a timeout, a deadlock, a standby).
    public static let databaseUnavailable = unavailable("database", detail: "the service's database is unreachable or busy")

    /// 503: the broker is unreachable (an operation that needs it now, such as a dead-letter listing).
    public static let brokerUnavailable = unavailable("broker", detail: "the service cannot reach its broker")

    /// 503 `<dependency>-unavailable`: retry later (``response()`` adds `Retry-After`).
    static func unavailable(_ dependency: String, detail: String) -> Problem {
        Problem(
            code: "\(dependency)-unavailable", title: "The \(dependency) is unavailable", status: .serviceUnavailable,
            detail: "\(detail); retry later")
    }

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, requestId
        case invalidParams = "invalid-params"
    }

    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    struct Parameter: Encodable {
        var name: String
        var reason: String
    }

    /// Encodes the RFC 9457 members, plus `requestId` and the problem's own ``members``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(detail, forKey: .detail)
        try container.encodeIfPresent(RequestID.current, forKey: .requestId)
        if !invalidParams.isEmpty {
            try container.encode(invalidParams.map { Parameter(name: $0.name, reason: $0.reason) }, forKey: .invalidParams)
        }
        var extensions = encoder.container(keyedBy: MemberKey.self)
        for (name, value) in members {
            try extensions.encode(value, forKey: MemberKey(stringValue: name))
        }
    }

    /// Seconds a client waits before retrying a 503 (`Retry-After`).
    public static let retryAfterSeconds = 1

    /// The response carrying this problem; a 503 says when to retry (`Retry-After`).
    func response() -> Response {
        let body = (try? JSONEncoder().encode(self)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == 503 { headers[.retryAfter] = "\(Self.retryAfterSeconds)" }
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
