import Foundation
import Replication
import ServiceSupport
import Synchronization

/// What both in-memory stores keep alike: records in creation order, paged like the
/// repositories page them, and the Idempotency-Keys of their creates.
struct InMemoryRecords<Record: Identifiable & Sendable> where Record.ID == UUID {
    private(set) var all: [Record] = []
    private var keys: [String: (IdempotentRequest, Record)] = [:]

    /// The first record of a repeated key; throws ``IdempotencyError/reused`` for another request.
    func repeated(_ idempotency: IdempotentRequest?) throws -> Record? {
        guard let idempotency, let (first, record) = keys[idempotency.key] else { return nil }
        guard first.operation == idempotency.operation, first.fingerprint == idempotency.fingerprint else { throw IdempotencyError.reused }
        return record
    }

    /// Adds a created record, remembering its key.
    mutating func insert(_ record: Record, idempotency: IdempotentRequest?) {
        all.append(record)
        if let idempotency { keys[idempotency.key] = (idempotency, record) }
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
