import Contract
import Foundation
import Replication
import ServiceSupport
import Synchronization

/// What both in-memory stores keep alike: records in creation order, paged like the
/// repositories page them, their changes (versions, If-Match, deletions), and the
/// Idempotency-Keys of all of them.
struct InMemoryRecords<Record: ChangeableRecord> {
    private(set) var all: [Record] = []
    private var keys: [String: (request: IdempotentRequest, response: any Sendable)] = [:]

    /// The record of a repeated key; throws ``IdempotencyError/reused`` for another request.
    func repeated(_ idempotency: IdempotentRequest?) throws -> Record? {
        try repeated(idempotency, as: Record.self)
    }

    /// The response of a repeated key, of type `Response`.
    func repeated<Response>(_ idempotency: IdempotentRequest?, as: Response.Type) throws -> Response? {
        guard let idempotency, let (first, response) = keys[idempotency.key] else { return nil }
        guard first.operation == idempotency.operation, first.fingerprint == idempotency.fingerprint else { throw IdempotencyError.reused }
        return response as? Response
    }

    /// Adds a created record, remembering its key.
    mutating func insert(_ record: Record, idempotency: IdempotentRequest?) {
        all.append(record)
        remember(record, for: idempotency)
    }

    /// Changes record `id` with `change` (nothing, when it leaves the record as it was), as the
    /// repositories do: 404 and 412 as ``ChangeRefusal``, the next version, the key remembered.
    mutating func change(
        id: UUID, ifMatch: IfMatch?, idempotency: IdempotentRequest?, _ change: (inout Record) throws -> Void
    ) throws -> (record: Record, changed: Bool) {
        if let first = try repeated(idempotency) { return (first, false) }
        let index = try existing(id: id, ifMatch: ifMatch)
        var next = all[index]
        try change(&next)
        guard next != all[index] else { return (next, false) }
        next.version += 1
        next.updatedAt = next.updatedAt.addingTimeInterval(1)
        all[index] = next
        remember(next, for: idempotency)
        return (next, true)
    }

    /// Deletes record `id` as the repositories do; returns its tombstone.
    mutating func delete(id: UUID, ifMatch: IfMatch?, idempotency: IdempotentRequest?) throws -> Tombstone {
        if let first = try repeated(idempotency, as: Tombstone.self) { return first }
        let removed = all.remove(at: try existing(id: id, ifMatch: ifMatch))
        let tombstone = Tombstone(id: id, version: removed.version + 1, deletedAt: removed.updatedAt.addingTimeInterval(1))
        remember(tombstone, for: idempotency)
        return tombstone
    }

    private func existing(id: UUID, ifMatch: IfMatch?) throws -> Int {
        guard let index = all.firstIndex(where: { $0.id == id }) else { throw ChangeRefusal.notFound("no record \(id.lowercased)") }
        try ChangeRefusal.check(ifMatch, version: all[index].version)
        return index
    }

    private mutating func remember(_ response: any Sendable, for idempotency: IdempotentRequest?) {
        if let idempotency { keys[idempotency.key] = (idempotency, response) }
    }

    /// The creation time the next record gets (one second apart, so pages have an order).
    var nextCreatedAt: Date { Date(timeIntervalSince1970: Double(1_800_000_000 + all.count)) }

    /// Up to `limit` of `records` after `cursor`, as a repository pages them.
    static func page(_ records: [Record], after cursor: PageCursor?, limit: Int, createdAt: (Record) -> Date) -> Page<Record> {
        let start = cursor.map { cursor in records.firstIndex { $0.id == cursor.id }.map { $0 + 1 } ?? records.count } ?? 0
        return Page(fetched: Array(records[start...].prefix(limit + 1)), limit: limit) { PageCursor(createdAt: createdAt($0), id: $0.id) }
    }
}

/// A store's replica of the peer's records, kept in memory; tests put records in place
/// as the consumer would.
final class InMemoryReplica<Record: Identifiable & Sendable>: Sendable where Record.ID == UUID {
    private let replicated = Mutex<[Replicated<Record>]>([])

    /// Puts a replicated record in place, as the consumer would.
    func replicate(_ record: Record) {
        replicated.withLock { $0.append(Replicated(record: record, replicatedAt: Date(), eventId: UUID(), requestId: nil)) }
    }

    /// The replicated record with `id`; nil when it has not been replicated.
    func record(id: UUID) -> Replicated<Record>? {
        replicated.withLock { $0.first { $0.record.id == id } }
    }

    /// The replicated records that `isIncluded` accepts, in the order they arrived.
    func records(where isIncluded: (Record) -> Bool) -> [Replicated<Record>] {
        replicated.withLock { $0.filter { isIncluded($0.record) } }
    }
}

/// A record the in-memory stores can change: it has a version and an update time.
protocol ChangeableRecord: Identifiable, Hashable, Sendable where ID == UUID {
    var version: Int64 { get set }
    var updatedAt: Date { get set }
}

extension CustomerRecord: ChangeableRecord {}
extension OrderRecord: ChangeableRecord {}
