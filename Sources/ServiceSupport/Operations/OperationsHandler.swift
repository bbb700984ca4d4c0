import AMQP
import Contract
import Foundation
import OperationsAPI
import Postgres
import Replication

/// The operations endpoints of openapi.yaml (the `operations` and `health` tags), implemented
/// once for both services. The generated server decodes each request and encodes each answer;
/// errors are thrown as ``Problem``s and rendered by ``ProblemMiddleware``.
///
/// ``OperationsListener`` serves all of them on the admin listener, behind the operations
/// token; the public listener serves only the `health` ones.
struct OperationsHandler: APIProtocol {
    /// The service's name, in the health bodies and the trace.
    let service: String
    /// The service's database.
    let database: PostgresClient
    /// The service's publisher (readiness reports its connection).
    let publisher: AMQPPublisher
    /// The service's own records (`table=own`) and its replica (`table=replica`).
    let records: [Components.Parameters.RecordTable: RecordVersions]
    /// The resyncs of its own records to a subscriber.
    let resync: any ResyncJobs
    /// Its dead-letter queue.
    let deadLetters: DeadLetters
    /// The replication status, read at most once a second.
    let status: StatusCache
    /// The digests of `records`, read at most once a second per table and bucket count.
    let digests: DigestCache
    /// What the service did for a request.
    let trace: Trace

    // MARK: health

    func getLiveness(_ input: Operations.GetLiveness.Input) async throws -> Operations.GetLiveness.Output {
        .ok(.init(body: .json(.init(status: .ok, service: service))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let readiness = await Readiness.check(database: database, publisher: publisher)
        let body = Components.Schemas.Health(
            status: readiness.isReady ? .ok : .unavailable, service: service,
            database: .init(readiness.database), broker: .init(readiness.broker))
        return readiness.isReady ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(.init(ServiceMetrics.exposition()))))
    }

    // MARK: replication

    func getReplicationStatus(_ input: Operations.GetReplicationStatus.Input) async throws -> Operations.GetReplicationStatus.Output {
        let (status, age) = try await self.status.status()
        return .ok(.init(body: .json(.init(status, age: age))))
    }

    func retryParkedOutboxRows(_ input: Operations.RetryParkedOutboxRows.Input) async throws -> Operations.RetryParkedOutboxRows.Output {
        .ok(.init(body: .json(.init(retried: try await Outbox.retryParked(on: database)))))
    }

    func getRecordDigest(_ input: Operations.GetRecordDigest.Input) async throws -> Operations.GetRecordDigest.Output {
        let table = input.query.table
        let buckets = input.query.buckets?.rawValue ?? 256
        let (digest, age) = try await digests.digest(of: table.rawValue, buckets: buckets) {
            guard let records = records[table] else { throw Problem.notFound("no table \(table.rawValue)") }
            return try await database.withConnection { try await records.digest(buckets: buckets, on: $0) }
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        ageMs: age.milliseconds, table: .init(rawValue: table.rawValue) ?? .own, count: digest.count,
                        buckets: digest.buckets.map { .init(count: $0.count, digest: $0.digest) }))))
    }

    func listRecordVersions(_ input: Operations.ListRecordVersions.Input) async throws -> Operations.ListRecordVersions.Output {
        guard let records = records[input.query.table] else { throw Problem.notFound("no table \(input.query.table.rawValue)") }
        let buckets = input.query.buckets?.rawValue ?? 256
        let bucket = input.query.bucket ?? 0
        guard (0..<buckets).contains(bucket) else { throw Self.invalid("bucket", "must be in 0..<buckets") }
        let limit = try Parameters.limit(input.query.limit)
        let after = try input.query.after.map { try Parameters.id($0, name: "after") }
        let page = try await records.records(bucket: bucket, of: buckets, after: after, limit: limit + 1, in: database)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: Array(page.prefix(limit)),
                        next: page.count > limit ? page[limit - 1].id.lowercased : nil))))
    }

    // MARK: resync

    func startResync(_ input: Operations.StartResync.Input) async throws -> Operations.StartResync.Output {
        guard case .json(let body) = input.body else { throw Self.invalid("body", "must be JSON") }
        var invalid = Self.subscriberRule(body.subscriber)
        var ids: [UUID]?
        if let texts = body.ids {
            ids = texts.enumerated().compactMap { index, text in
                let (id, problems) = FieldRules.uuid(text, field: "ids[\(index)]")
                invalid += problems
                return id
            }
            if texts.isEmpty { invalid.append(InvalidParameter(name: "ids", reason: "must name at least one id, or be left out for all")) }
            if texts.count > 1000 { invalid.append(InvalidParameter(name: "ids", reason: "at most 1000 ids a job")) }
        }
        guard invalid.isEmpty else { throw Problem.validation(invalid) }
        let job: ResyncJob
        do {
            job = try await resync.start(subscriber: body.subscriber, ids: ids, repair: body.repair ?? false)
        } catch ResyncError.alreadyRunning(let subscriber) {
            throw Problem(
                code: "resync-running", title: "A resync for this subscriber is running", status: .conflict,
                detail: "a resync to \(subscriber) is running; wait for it to end (GET /replication/resync/{id})")
        } catch ResyncError.notAllowed(let subscriber, let allowed) {
            throw Problem(
                code: "subscriber-not-allowed", title: "Not a subscriber this service resyncs to", status: .unprocessableContent,
                detail: "\(subscriber) is not in RESYNC_SUBSCRIBERS (\(allowed.joined(separator: ", ")))")
        }
        return .accepted(.init(headers: .init(location: "/replication/resync/\(job.id.lowercased)"), body: .json(.init(job))))
    }

    func getResync(_ input: Operations.GetResync.Input) async throws -> Operations.GetResync.Output {
        let id = try Parameters.id(input.path.id)
        guard let job = try await resync.job(id: id) else { throw Problem.notFound("no resync job \(id.lowercased)") }
        return .ok(.init(body: .json(.init(job))))
    }

    /// A subscriber is a service name: lowercase letters, digits and dashes, as in its queue's name.
    static func subscriberRule(_ name: String) -> [InvalidParameter] {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard allowed, (1...100).contains(name.count), name.first != "-" else {
            return [InvalidParameter(name: "subscriber", reason: "must be a service name: 1 to 100 of a-z, 0-9 and -, such as order-service")]
        }
        return []
    }

    // MARK: dead letters

    func listDeadLetters(_ input: Operations.ListDeadLetters.Input) async throws -> Operations.ListDeadLetters.Output {
        let limit = try Parameters.limit(input.query.limit)
        let (letters, total) = try await deadLetters.list(limit: limit)
        return .ok(.init(body: .json(.init(total: total, items: letters.map(Components.Schemas.DeadLetterList.ItemsPayloadPayload.init)))))
    }

    func replayDeadLetters(_ input: Operations.ReplayDeadLetters.Input) async throws -> Operations.ReplayDeadLetters.Output {
        guard case .json(let body) = input.body else { throw Self.invalid("body", "must be JSON") }
        let settled = try await deadLetters.replay(try Self.selection(body))
        return .ok(.init(body: .json(.init(replayed: settled.count, skipped: settled.skipped))))
    }

    func discardDeadLetters(_ input: Operations.DiscardDeadLetters.Input) async throws -> Operations.DiscardDeadLetters.Output {
        guard case .json(let body) = input.body else { throw Self.invalid("body", "must be JSON") }
        let settled = try await deadLetters.discard(try Self.selection(body))
        return .ok(.init(body: .json(.init(discarded: settled.count, skipped: settled.skipped))))
    }

    /// `{"eventIds": [...]}`, `{"reason": "…"}` or `{"all": true}`, within their limits.
    static func selection(_ body: Components.Schemas.DeadLetterSelection) throws -> DeadLetterSelection {
        switch body {
        case .case1(let ids) where !ids.eventIds.isEmpty && ids.eventIds.count <= 1000:
            return .eventIds(Set(ids.eventIds.map { $0.lowercased() }))
        case .case2(let reason) where !reason.reason.isEmpty && reason.reason.count <= 100:
            return .reason(reason.reason)
        case .case3(let all) where all.all:
            return .all
        default:
            throw invalid("body", #"must be one of {"eventIds": [1 to 1000 ids]}, {"reason": "<code>"}, {"all": true}"#)
        }
    }

    // MARK: trace

    func getTrace(_ input: Operations.GetTrace.Input) async throws -> Operations.GetTrace.Output {
        let text = input.path.requestId
        // A request id is what X-Request-ID accepts.
        guard let requestId = RequestID.accept(text.removingPercentEncoding ?? text) else {
            throw Self.invalid("requestId", "must be 1 to 200 visible ASCII characters")
        }
        let hops = try await trace.hops(of: requestId)
        return .ok(
            .init(
                body: .json(
                    .init(
                        requestId: requestId, incomplete: hops.incomplete,
                        hops: hops.hops.map(Components.Schemas.Trace.HopsPayloadPayload.init)))))
    }

    private static func invalid(_ name: String, _ reason: String) -> Problem {
        Problem.validation([InvalidParameter(name: name, reason: reason)])
    }
}
