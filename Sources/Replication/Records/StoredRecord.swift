import Contract
import Foundation
import Postgres

/// A record of the contract as a table row holds it: its columns, in order, and how to read
/// and write them. Each record type says this once; the service that owns the records and
/// the service that replicates them both use it (own table, replica, ``ReplicaTable``).
public protocol StoredRecord: Codable, Hashable, Identifiable, Sendable, Versioned where ID == UUID {
    /// When the record was created at its source (with the id, the order of pages).
    var createdAt: Date { get }
    /// The event that carries a new record of this type.
    static var createdEvent: EventType { get }
    /// Every event whose `data` is the whole record at some version: the replica applies each.
    static var recordEvents: Set<EventType> { get }
    /// The event whose `data` is the ``Tombstone`` of a deleted record, if records of this type are deleted.
    static var deletedEvent: EventType? { get }
    /// The event a resync sends: the record's current state, or its tombstone (docs/design.md#repair).
    static var snapshotEvent: EventType { get }
    /// The columns, in the order ``init(row:at:)`` reads them; the first is `id`.
    static var columns: [StoredColumn<Self>] { get }
    /// Reads the record from `row`'s columns `first...` (in the order of ``columns``).
    init(row: PostgresRow, at first: Int) throws
    /// The reasons the record breaks the contract's field rules, fields named `prefix` + name.
    func validate(prefix: String) -> [InvalidParameter]
}

/// One column of a ``StoredRecord``'s row.
public struct StoredColumn<Record: StoredRecord>: Sendable {
    /// The column's name.
    public var name: String
    /// Its SQL type (`uuid`, `text`, `bigint`, `timestamptz`), for `unnest($n::type[])`.
    public var type: String
    /// The column's values for `changes`, as one array parameter: the record's value, or for a
    /// deletion the tombstone's (NULL for the columns a tombstone does not have).
    public var values: @Sendable ([RecordChange<Record>]) -> any PostgresEncodable
    /// Whether a tombstone has this column (the id, the version, the time); in a replica, the
    /// other columns are NULL in a tombstone's row.
    public var inTombstone: Bool

    /// Creates a column whose value is `value` of each record, and `tombstone` of a deleted one
    /// (NULL when there is none).
    public init<Value: PostgresArrayElement & PostgresEncodable>(
        _ name: String, _ type: String, _ value: @escaping @Sendable (Record) -> Value,
        tombstone: (@Sendable (Tombstone) -> Value)? = nil
    ) {
        self.name = name
        self.type = type
        self.inTombstone = tombstone != nil
        self.values = { changes in
            changes.map { change -> Value? in
                switch change {
                case .record(let record): value(record)
                case .deleted(let deleted): tombstone?(deleted)
                }
            }
        }
    }
}

extension StoredRecord {
    /// None: records of this type are not deleted.
    public static var deletedEvent: EventType? { nil }

    /// `id, name, …`: the columns for a `SELECT` list or an `INSERT` column list.
    public static var columnList: String { columns.map(\.name).joined(separator: ", ") }

    /// Reads the record from `row`, whose first columns are ``columnList``.
    public init(row: PostgresRow) throws {
        try self.init(row: row, at: 0)
    }
}
