import Contract
import Foundation
import Postgres

/// A service's replica of its peer's records: a table with the record's columns plus
/// `deleted_at`, `event_id`, `request_id`, `epoch` and `replicated_at`.
///
/// It is the ``ReplicaEventHandler`` of the subscription (it checks the events that carry a
/// record or a tombstone and writes them, a batch in one statement) and it reads replicated
/// records back. Both services use it, with their peer's record type: `ReplicaTable<OrderRecord>(name:
/// "replica_orders")` at CustomerService, `ReplicaTable<CustomerRecord>(name:
/// "replica_customers")` at OrderService.
///
/// A row holds the highest (epoch, version) of its record that arrived: the source's epoch
/// (``IncomingEvent/epoch``) goes up after a restore from a backup, so its changes win over the
/// higher versions the restore lost. A deleted record stays as a
/// tombstone row (`deleted_at` set, the record's own columns NULL), so an older event that
/// arrives late finds a higher version there and changes nothing: it cannot bring the record
/// back. Reads see only the rows that are not deleted.
public struct ReplicaTable<Record: StoredRecord>: ReplicaEventHandler {
    /// The table's name (a trusted constant: a name cannot be a bound parameter).
    public let name: String
    private let upsert: String
    private let select: String

    /// The replica in table `name`.
    public init(name: String) {
        self.name = name
        let columns = Record.columns
        let arrays = columns.enumerated().map { "$\($0.offset + 1)::\($0.element.type)[]" }
        let deletedAt = columns.count + 1
        // A newer (epoch, version) replaces the row (a tombstone's NULLs included); the same or an older
        // one changes nothing, unless it is a repair's snapshot (its event id among the last parameter's).
        let updates = (columns.dropFirst().map(\.name) + ["deleted_at", "event_id", "request_id", "epoch"]).map { "\($0) = EXCLUDED.\($0)" }
        upsert = """
            INSERT INTO \(name) (\(Record.columnList), deleted_at, event_id, request_id, epoch)
            SELECT * FROM unnest(
                \(arrays.joined(separator: ", ")), $\(deletedAt)::timestamptz[], $\(deletedAt + 1)::uuid[], $\(deletedAt + 2)::text[],
                $\(deletedAt + 4)::bigint[])
            ON CONFLICT (id) DO UPDATE SET \(updates.joined(separator: ", ")), replicated_at = clock_timestamp()
            WHERE (\(name).epoch, \(name).version) < (EXCLUDED.epoch, EXCLUDED.version) OR EXCLUDED.event_id = ANY($\(deletedAt + 3)::uuid[])
            RETURNING id
            """
        select = "SELECT \(Replicated<Record>.columnList) FROM \(name)"
    }

    /// The change an event carries, checked against the contract's rules: a record at some
    /// version, or (for ``StoredRecord/deletedEvent``) the tombstone of a deleted one.
    /// A snapshot (from a resync) carries either, told apart by `deletedAt`.
    public func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> RecordChange<Record> {
        let type = event.envelope.type
        if let deleted = Record.deletedEvent, type == deleted.rawValue || (type == Record.snapshotEvent.rawValue && event.dataIsTombstone) {
            return .deleted(try event.record(of: [deleted, Record.snapshotEvent], as: Tombstone.self) { $0.validate(prefix: "data.") })
        }
        var types = Record.recordEvents.union([Record.snapshotEvent])
        if let deleted = Record.deletedEvent { types.insert(deleted) }
        return .record(try event.record(of: types, as: Record.self) { $0.validate(prefix: "data.") })
    }

    /// Writes the changes that are newer (by epoch, then version) than the replica's rows, in one
    /// statement; the same or an older one (a replay, a late event) changes nothing, except a repair's snapshot
    /// (``IncomingEvent/overwrites``), which replaces the row whatever its version. Returns the ids written.
    public func apply(_ changes: [PreparedEvent<RecordChange<Record>>], on connection: PostgresConnection) async throws -> Set<UUID> {
        let records = changes.map(\.change)
        let envelopes = changes.map(\.event.envelope)
        let deletedAt = records.map { change -> Date? in
            if case .deleted(let tombstone) = change { tombstone.deletedAt } else { nil }
        }
        let overwrites = changes.filter { $0.event.overwrites && $0.event.envelope.type == Record.snapshotEvent.rawValue }.map(
            \.event.envelope.eventId)
        let binds: [(any PostgresEncodable)?] =
            Record.columns.map { $0.values(records) } + [
                deletedAt, envelopes.map(\.eventId), envelopes.map(\.requestId), overwrites, changes.map(\.event.epoch),
            ]
        let written = try await connection.query(upsert, binds)
        return Set(try written.map { try $0.decode(0, as: UUID.self) })
    }

    /// The replicated record `id`; nil until it has arrived, and after it was deleted.
    public func record(id: UUID, in database: PostgresClient) async throws -> Replicated<Record>? {
        try await database.query("\(select) WHERE id = $1 AND \(ReplicationSchema.liveReplicaRows)", [id]).first.map(Replicated<Record>.init(row:))
    }

    /// The tombstone of record `id`, and when it was replicated, if the replica knows the record was deleted.
    public func tombstone(id: UUID, in database: PostgresClient) async throws -> Replicated<Tombstone>? {
        try await database.query(
            "SELECT id, version, deleted_at, replicated_at, event_id, request_id FROM \(name) WHERE id = $1 AND deleted_at IS NOT NULL", [id]
        ).first.map {
            Replicated(
                record: Tombstone(id: try $0.decode(0), version: try $0.decode(1), deletedAt: try $0.decode(2)),
                replicatedAt: try $0.decode(3), eventId: try $0.decode(4), requestId: try $0.decode(5))
        }
    }

    /// Up to `limit` replicated records whose `column` equals `value` and that come after the
    /// record `after` (by `created_at`, then `id`), oldest first; deleted records are left out.
    /// `column` is a trusted constant; an index on `(column, created_at, id)` serves it.
    public func records(
        where column: String, equals value: UUID, after: (createdAt: Date, id: UUID)?, limit: Int, in database: PostgresClient
    ) async throws -> [Replicated<Record>] {
        try await database.query(
            """
            \(select)
            WHERE \(column) = $1 AND \(ReplicationSchema.liveReplicaRows) AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
            ORDER BY created_at, id
            LIMIT $4
            """,
            [value, after?.createdAt, after?.id, limit]
        ).map(Replicated<Record>.init(row:))
    }
}
