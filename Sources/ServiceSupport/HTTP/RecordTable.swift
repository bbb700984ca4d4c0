import Foundation
import Postgres
import Replication

/// A service's own table of records: read by id, and in pages ordered by `(created_at, id)`.
public struct RecordTable<Record: StoredRecord>: Sendable {
    /// The table's name (a trusted constant: a name cannot be a bound parameter).
    public let name: String
    private let select: String

    /// The table `name`, whose first columns are `Record`'s.
    public init(name: String) {
        self.name = name
        select = "SELECT \(Record.columnList) FROM \(name)"
    }

    /// The record `id`, or nil.
    public func record(id: UUID, in database: PostgresClient) async throws -> Record? {
        try await database.query("\(select) WHERE id = $1", [id]).first.map(Record.init(row:))
    }

    /// The record `id`, locked (`FOR UPDATE`) until `connection`'s transaction ends; nil when there is none.
    /// Changes lock their record first: concurrent changes of one record take turns, each sees the last.
    public func lockedRecord(id: UUID, on connection: PostgresConnection) async throws -> Record? {
        try await connection.query("\(select) WHERE id = $1 FOR UPDATE", [id]).first.map(Record.init(row:))
    }

    /// Up to `limit` records after `cursor`, oldest first.
    public func page(after cursor: PageCursor?, limit: Int, in database: PostgresClient) async throws -> Page<Record> {
        let rows = try await database.query(
            """
            \(select)
            WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1, $2)
            ORDER BY created_at, id
            LIMIT $3
            """,
            [cursor?.createdAt, cursor?.id, limit + 1]
        )
        return try page(rows, limit: limit)
    }

    /// Up to `limit` records whose `column` equals `value`, after `cursor`, oldest first
    /// (`column` is a trusted constant; an index on `(column, created_at, id)` serves it).
    public func page(
        where column: String, equals value: UUID, after cursor: PageCursor?, limit: Int, in database: PostgresClient
    ) async throws -> Page<Record> {
        let rows = try await database.query(
            """
            \(select)
            WHERE \(column) = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
            ORDER BY created_at, id
            LIMIT $4
            """,
            [value, cursor?.createdAt, cursor?.id, limit + 1]
        )
        return try page(rows, limit: limit)
    }

    private func page(_ rows: PostgresQueryResult, limit: Int) throws -> Page<Record> {
        Page(fetched: try rows.map(Record.init(row:)), limit: limit) { PageCursor(createdAt: $0.createdAt, id: $0.id) }
    }
}
