import Contract
import Foundation
import Hummingbird
import Postgres
import Replication

/// `GET /replication/digest` and `GET /replication/records` (DESIGN §8): what a verifier
/// compares, a service's own records and its replica as `(id, version, deleted)` triples.
struct RecordVersionsRoutes: Sendable {
    let database: PostgresClient
    /// The service's own records (`table=own`) and its replica (`table=replica`).
    let tables: [String: RecordVersions]

    func register(on router: Router<BasicRequestContext>) {
        router.get("/replication/digest") { request, _ in
            let (name, records) = try table(request)
            let buckets = try Self.buckets(request)
            let (count, digests) = try await database.withConnection { try await records.digest(buckets: buckets, on: $0) }
            return DigestBody(table: name, count: count, buckets: digests.map(ReplicationStatusBody.Digest.init))
        }
        router.get("/replication/records") { request, _ in
            let (_, records) = try table(request)
            let buckets = try Self.buckets(request)
            let bucket = try Parameters.integer("bucket", of: request) ?? 0
            guard (0..<buckets).contains(bucket) else { throw Self.invalid("bucket", "must be in 0..<buckets") }
            let limit = try Parameters.limit(try Parameters.integer("limit", of: request))
            let after = try request.uri.queryParameters.get("after").map { try Parameters.id(String($0), name: "after") }
            let page = try await records.records(bucket: bucket, of: buckets, after: after, limit: limit + 1, in: database)
            return RecordsBody(
                items: page.prefix(limit).map { .init(id: $0.id.lowercased, version: $0.version, deleted: $0.deleted) },
                next: page.count > limit ? page[limit - 1].id.lowercased : nil)
        }
    }

    private func table(_ request: Request) throws -> (String, RecordVersions) {
        let name = request.uri.queryParameters.get("table") ?? ""
        guard let records = tables[name] else { throw Self.invalid("table", "must be one of \(tables.keys.sorted())") }
        return (name, records)
    }

    private static func buckets(_ request: Request) throws -> Int {
        let buckets = try Parameters.integer("buckets", of: request) ?? 256
        guard RecordVersions.isValid(buckets: buckets) else { throw invalid("buckets", "must be a power of two in 1...4096") }
        return buckets
    }

    private static func invalid(_ name: String, _ reason: String) -> Problem {
        Problem.validation([InvalidParameter(name: name, reason: reason)])
    }
}

/// `RecordDigest` of openapi.yaml.
struct DigestBody: ResponseEncodable {
    var table: String
    var count: Int64
    var buckets: [ReplicationStatusBody.Digest]
}

/// `RecordVersionPage` of openapi.yaml: `next` is written as null on the last page.
struct RecordsBody: ResponseEncodable {
    struct Item: Encodable {
        var id: String
        var version: Int64
        var deleted: Bool
    }

    var items: [Item]
    var next: String?

    enum CodingKeys: String, CodingKey { case items, next }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(next, forKey: .next)
    }
}
