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
        let output = try await callOperation(service) {
            try await $0.getRecordDigest(query: .init(table: table, buckets: bucketCount))
        }
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try service.failure(answering: output)
        }
    }

    /// Every `(id, version, deleted, content)` of the records of bucket `bucket` of `buckets` of one service's `table`, page by page.
    func recordVersions(of service: Service, table: RecordTable, bucket: Int, of buckets: Int) async throws -> [VersionedID] {
        let bucketCount = Components.Parameters.Buckets(rawValue: buckets)
        var records: [VersionedID] = []
        var after: String?
        repeat {
            let output = try await callOperation(service) {
                try await $0.listRecordVersions(
                    query: .init(table: table, buckets: bucketCount, bucket: bucket, limit: 1000, after: after))
            }
            guard case .ok(let ok) = output else { throw try service.failure(answering: output) }
            let page = try ok.body.json
            records += page.items.map { VersionedID(id: $0.id, version: $0.version, deleted: $0.deleted, content: $0.content) }
            after = page.next
        } while after != nil
        return records
    }
}

/// A record's id, version, whether it is deleted, and the hash of its content, as a verifier compares them.
struct VersionedID: Codable, Hashable, Sendable {
    var id: String
    var version: Int64
    var deleted: Bool
    /// The hash of the record's replicated columns (nil when unknown: it then compares unequal to a known one).
    var content: String?
}

extension ServiceClients {
    /// `POST /replication/resync` at `source`: sends its records (all, or `ids`) to `subscriber`'s
    /// queue; a `repair` overwrites the subscriber's rows and removes the ids the source does not have.
    func startResync(at source: Service, to subscriber: String, ids: [String]?, repair: Bool = false) async throws -> Components.Schemas.ResyncJob {
        let output = try await callOperation(source) {
            try await $0.startResync(body: .json(.init(subscriber: subscriber, ids: ids, repair: repair)))
        }
        switch output {
        case .accepted(let accepted): return try accepted.body.json
        default: throw try source.failure(answering: output)
        }
    }

    /// `GET /replication/resync/{id}` at `source`.
    func resync(at source: Service, id: String) async throws -> Components.Schemas.ResyncJob {
        let output = try await callOperation(source, { try await $0.getResync(path: .init(id: id)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try source.failure(answering: output)
        }
    }

    /// Runs a resync (a `repair` one, see ``startResync(at:to:ids:repair:)``) at `source` to
    /// `subscriber` until it ends, calling `progress` with each reading; more than 1000 ids run as
    /// one job per 1000, one after the other (the last job is returned). Throws when a job fails.
    func runResync(
        at source: Service, to subscriber: String, ids: [String]?, repair: Bool = false,
        progress: (Components.Schemas.ResyncJob) -> Void = { _ in }
    ) async throws -> Components.Schemas.ResyncJob {
        if let ids, ids.count > 1000 {
            var last: Components.Schemas.ResyncJob?
            for start in stride(from: 0, to: ids.count, by: 1000) {
                last = try await runResync(
                    at: source, to: subscriber, ids: Array(ids[start..<min(start + 1000, ids.count)]), repair: repair, progress: progress)
            }
            return last!
        }
        var job = try await startResync(at: source, to: subscriber, ids: ids, repair: repair)
        while job.state == .running {
            progress(job)
            try await Task.sleep(for: .milliseconds(200))
            job = try await resync(at: source, id: job.id)
        }
        progress(job)
        guard job.state == .done else { throw ResyncFailure(job: job) }
        return job
    }
}

/// A resync job that ended failed.
struct ResyncFailure: Error, CustomStringConvertible {
    var job: Components.Schemas.ResyncJob
    var description: String { "resync \(job.id) to \(job.subscriber) failed after \(job.sent) of \(job.total): \(job.error ?? "no reason given")" }
}
