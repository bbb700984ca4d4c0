import Foundation
import ServiceClient

/// Which records of a service: the ones it owns (with its tombstones), or its replica.
typealias RecordTable = Components.Parameters.RecordTable

extension ServiceClients {
    /// `GET /replication/digest` of one service: its records of `table` in `buckets` buckets.
    func recordDigest(of service: Service, table: RecordTable, buckets: Int) async throws -> Components.Schemas.RecordDigest {
        guard let bucketCount = Components.Parameters.Buckets(rawValue: buckets) else {
            preconditionFailure("\(buckets) buckets is not a power of two in 1...4096")
        }
        let output = try await call(service) {
            try await client(service).getRecordDigest(query: .init(table: table, buckets: bucketCount))
        }
        switch output {
        case .ok(let ok): return try ok.body.json
        case .badRequest(let problem): throw ClientFailure.problem(try problem.body.applicationProblemJson, service: service.displayName)
        case .serviceUnavailable(let problem): throw ClientFailure.problem(try problem.body.applicationProblemJson, service: service.displayName)
        case .undocumented(let status, _): throw ClientFailure.undocumented(status, service: service.displayName)
        }
    }

    /// Every `(id, version, deleted)` triple of bucket `bucket` of `buckets` of one service's `table`, page by page.
    func recordVersions(of service: Service, table: RecordTable, bucket: Int, of buckets: Int) async throws -> [VersionedID] {
        let bucketCount = Components.Parameters.Buckets(rawValue: buckets)
        var records: [VersionedID] = []
        var after: String?
        repeat {
            let output = try await call(service) {
                try await client(service).listRecordVersions(
                    query: .init(table: table, buckets: bucketCount, bucket: bucket, limit: 1000, after: after))
            }
            let page: Components.Schemas.RecordVersionPage
            switch output {
            case .ok(let ok): page = try ok.body.json
            case .badRequest(let problem): throw ClientFailure.problem(try problem.body.applicationProblemJson, service: service.displayName)
            case .serviceUnavailable(let problem): throw ClientFailure.problem(try problem.body.applicationProblemJson, service: service.displayName)
            case .undocumented(let status, _): throw ClientFailure.undocumented(status, service: service.displayName)
            }
            records += page.items.map { VersionedID(id: $0.id, version: $0.version, deleted: $0.deleted) }
            after = page.next
        } while after != nil
        return records
    }
}

/// A record's id, version and whether it is deleted, as a verifier compares them.
struct VersionedID: Codable, Hashable, Sendable {
    var id: String
    var version: Int64
    var deleted: Bool
}
