import Contract
import Foundation
import Postgres

/// A service's replica of its peer's records: a table with the record's columns plus
/// `event_id`, `request_id` and `replicated_at`.
///
/// It is the ``ReplicaEventHandler`` of the subscription (it checks the events that create
/// records and inserts them, a batch in one statement) and it reads replicated records back.
/// Both services use it, with their peer's record type: `ReplicaTable<OrderRecord>(name:
/// "replica_orders")` at CustomerService, `ReplicaTable<CustomerRecord>(name:
/// "replica_customers")` at OrderService.
public struct ReplicaTable<Record: StoredRecord>: ReplicaEventHandler {
    /// The table's name (a trusted constant: a name cannot be a bound parameter).
    public let name: String
    private let insert: String
    private let select: String

    /// The replica in table `name`.
    public init(name: String) {
        self.name = name
        let columns = Record.columns
        let arrays = columns.enumerated().map { "$\($0.offset + 1)::\($0.element.type)[]" }
        let eventId = columns.count + 1
        // A newer version replaces the row; the same or an older one changes nothing.
        let updates = (columns.dropFirst().map(\.name) + ["event_id", "request_id"]).map { "\($0) = EXCLUDED.\($0)" }
        insert = """
            INSERT INTO \(name) (\(Record.columnList), event_id, request_id)
            SELECT * FROM unnest(\(arrays.joined(separator: ", ")), $\(eventId)::uuid[], $\(eventId + 1)::text[])
            ON CONFLICT (id) DO UPDATE SET \(updates.joined(separator: ", ")), replicated_at = clock_timestamp()
            WHERE \(name).version < EXCLUDED.version
            RETURNING id
            """
        select = "SELECT \(Replicated<Record>.columnList) FROM \(name)"
    }

    /// The record of an event that carries one (a create or a change), checked against the contract's field rules.
    public func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> Record {
        try event.record(of: Record.recordEvents, as: Record.self) { $0.validate(prefix: "data.") }
    }

    /// Writes the records that are new or newer than the replica's, in one statement; the same or
    /// an older version (a replay, a late event) changes nothing.
    public func apply(_ changes: [PreparedEvent<Record>], on connection: PostgresConnection) async throws -> Set<UUID> {
        let records = changes.map(\.change)
        let envelopes = changes.map(\.event.envelope)
        let binds: [(any PostgresEncodable)?] =
            Record.columns.map { $0.values(records) } + [envelopes.map(\.eventId), envelopes.map(\.requestId)]
        let inserted = try await connection.query(insert, binds)
        return Set(try inserted.map { try $0.decode(0, as: UUID.self) })
    }

    /// The replicated record `id`; nil until it has arrived.
    public func record(id: UUID, in database: PostgresClient) async throws -> Replicated<Record>? {
        try await database.query("\(select) WHERE id = $1", [id]).first.map(Replicated<Record>.init(row:))
    }

    /// Up to `limit` replicated records whose `column` equals `value` and that come after the
    /// record `after` (by `created_at`, then `id`), oldest first. `column` is a trusted constant;
    /// an index on `(column, created_at, id)` serves it.
    public func records(
        where column: String, equals value: UUID, after: (createdAt: Date, id: UUID)?, limit: Int, in database: PostgresClient
    ) async throws -> [Replicated<Record>] {
        try await database.query(
            """
            \(select)
            WHERE \(column) = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
            ORDER BY created_at, id
            LIMIT $4
            """,
            [value, after?.createdAt, after?.id, limit]
        ).map(Replicated<Record>.init(row:))
    }
}
