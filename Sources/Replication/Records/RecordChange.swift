import Contract
import Foundation

/// What an event says about one record of a replica: its whole state at a version, or its
/// deletion. Either way it has the record's id and a version, which orders the changes of a record.
public enum RecordChange<Record: StoredRecord>: Identifiable, Sendable, Hashable, Versioned {
    /// The record at its version (`customer.created`, `customer.updated`, …).
    case record(Record)
    /// The record was deleted (`customer.deleted`).
    case deleted(Tombstone)

    /// The record's id.
    public var id: UUID {
        switch self {
        case .record(let record): record.id
        case .deleted(let tombstone): tombstone.id
        }
    }

    /// The version of this change.
    public var version: Int64 {
        switch self {
        case .record(let record): record.version
        case .deleted(let tombstone): tombstone.version
        }
    }
}
