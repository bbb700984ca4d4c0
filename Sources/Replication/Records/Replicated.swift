import Foundation
import Postgres

/// A record as a replica holds it: the record, and when and by which event it arrived.
public struct Replicated<Record: Sendable>: Sendable {
    /// The record as its source published it.
    public var record: Record
    /// When the replica row was written.
    public var replicatedAt: Date
    /// The event that brought it.
    public var eventId: UUID
    /// The request id of the request that created it at the source.
    public var requestId: String?

    /// Creates a replicated record.
    public init(record: Record, replicatedAt: Date, eventId: UUID, requestId: String?) {
        self.record = record
        self.replicatedAt = replicatedAt
        self.eventId = eventId
        self.requestId = requestId
    }
}

extension Replicated where Record: StoredRecord {
    /// `<the record's columns>, replicated_at, event_id, request_id`.
    static var columnList: String { Record.columnList + ", replicated_at, event_id, request_id" }

    /// Reads a row of ``columnList``.
    init(row: PostgresRow) throws {
        let metadata = Record.columns.count
        self.init(
            record: try Record(row: row),
            replicatedAt: try row.decode(metadata),
            eventId: try row.decode(metadata + 1),
            requestId: try row.decode(metadata + 2)
        )
    }
}
