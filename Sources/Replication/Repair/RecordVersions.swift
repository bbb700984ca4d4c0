import Contract
import Foundation
import Postgres

extension RecordVersion {
    /// The digest term of the record: the first 8 bytes of `md5("<id>:<version>:<deleted>:<content>")`,
    /// as the database computes it.
    public var digestTerm: UInt64 {
        MD5.prefix64(of: Array("\(id.lowercased):\(version):\(deleted):\(content)".utf8))
    }
}

/// The `(id, version, deleted, content)` of a table's records, grouped into buckets by id, to
/// compare a replica with its source without reading either whole (docs/design.md#repair): first
/// one digest per bucket from each side, then the records of only the buckets that differ.
///
/// The content is a hash of the record's replicated columns (``content(of:)``), so a replica row
/// changed behind the service's back at the same version differs from its source.
///
/// A bucket is the records whose id starts with the same `log2(buckets)` bits (at most 12;
/// ids are random), so a bucket is a range of the primary key: reading one is an index
/// range scan, and the per-bucket digests are one pass without a sort.
public struct RecordVersions: Sendable {
    /// `SELECT id, version, deleted, content FROM …` for each table that holds the records.
    private let selects: [String]

    /// A service's own records: the rows of `table`, and the tombstones in `tombstones` if its
    /// records are deleted; `content` is the SQL of a row's content hash (``content(of:)``).
    /// All three are trusted constants.
    public static func own(table: String, tombstones: String?, content: String) -> RecordVersions {
        RecordVersions(
            selects: ["SELECT id, version, false AS deleted, \(content) AS content FROM \(table)"]
                + (tombstones.map { ["SELECT id, version, true AS deleted, '\(RecordVersion.tombstoneContent)' AS content FROM \($0)"] } ?? []))
    }

    /// A replica: its rows, tombstones (`deleted_at` set) included; `content` as in ``own(table:tombstones:content:)``.
    public static func replica(table: String, content: String) -> RecordVersions {
        RecordVersions(selects: [
            """
            SELECT id, version, deleted_at IS NOT NULL AS deleted,
                   CASE WHEN deleted_at IS NULL THEN \(content) ELSE '\(RecordVersion.tombstoneContent)' END AS content
            FROM \(table)
            """
        ])
    }

    /// The SQL of the content hash of a row of `Record`'s columns: the first 16 hex digits of the
    /// md5 of the text of a row value of every column of ``StoredRecord/columns``, times as
    /// milliseconds since 1970 (so the text does not depend on the session's time zone or date
    /// style). The source's table and the replica's hold the same columns, so equal records hash
    /// equal. (A row value's text costs about half of a JSON array's.)
    public static func content<Record: StoredRecord>(of record: Record.Type) -> String {
        let values = Record.columns.map { column in
            column.type == "timestamptz" ? "(extract(epoch FROM \(column.name)) * 1000)::bigint" : column.name
        }
        return "left(md5(row(\(values.joined(separator: ", ")))::text), 16)"
    }

    /// The bucket counts allowed: a power of two from 1 to 4096.
    public static func isValid(buckets: Int) -> Bool {
        (1...4096).contains(buckets) && buckets & (buckets - 1) == 0
    }

    private var records: String { "(\(selects.joined(separator: " UNION ALL "))) AS records" }

    /// The count and digest of every bucket of `buckets` (index = bucket), and the total count.
    /// The digest is the 64-bit wrapping sum of the records' ``RecordVersion/digestTerm``, in hex.
    public func digest(buckets: Int, on connection: PostgresConnection) async throws -> (count: Int64, buckets: [TableDigest]) {
        precondition(Self.isValid(buckets: buckets), "buckets must be a power of two in 1...4096")
        let rows = try await connection.query(
            """
            SELECT ('x' || left(id::text, 3))::bit(12)::int >> $1 AS bucket, count(*),
                   coalesce(sum(('x' || left(md5(id::text || ':' || version || ':' || deleted || ':' || content), 16))::bit(64)::bigint::numeric), 0)::text
            FROM \(records)
            GROUP BY 1
            """,
            [12 - buckets.trailingZeroBitCount]
        )
        var digests = [TableDigest](repeating: TableDigest(count: 0, digest: TableDigest.hex(0)), count: buckets)
        var total: Int64 = 0
        for row in rows {
            let count: Int64 = try row.decode(1)
            digests[try row.decode(0, as: Int.self)] = TableDigest(count: count, digest: TableDigest.hex(wrapping: try row.decode(2)))
            total += count
        }
        return (total, digests)
    }

    /// Up to `limit` records of bucket `bucket` of `buckets` whose ids come after `after`, in id order.
    public func records(
        bucket: Int, of buckets: Int, after: UUID?, limit: Int, in database: PostgresClient
    ) async throws -> [RecordVersion] {
        let (lower, upper) = Self.range(bucket: bucket, of: buckets)
        return try await database.query(
            """
            SELECT id, version, deleted, content FROM \(records)
            WHERE id >= $1 AND ($2::uuid IS NULL OR id < $2) AND ($3::uuid IS NULL OR id > $3)
            ORDER BY id
            LIMIT $4
            """,
            [lower, upper, after, limit]
        ).map {
            RecordVersion(id: try $0.decode(0), version: try $0.decode(1), deleted: try $0.decode(2), content: try $0.decode(3))
        }
    }

    /// The ids of bucket `bucket` of `buckets`: from `lower`, up to but not including `upper`
    /// (nil for the last bucket).
    static func range(bucket: Int, of buckets: Int) -> (lower: UUID, upper: UUID?) {
        precondition(Self.isValid(buckets: buckets) && (0..<buckets).contains(bucket))
        let shift = 16 - buckets.trailingZeroBitCount
        func id(_ prefix: Int) -> UUID {
            let high = UInt16(truncatingIfNeeded: prefix << shift)
            return UUID(uuid: (UInt8(high >> 8), UInt8(high & 0xff), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        }
        return (id(bucket), bucket + 1 < buckets ? id(bucket + 1) : nil)
    }

    /// The bucket of `id` among `buckets`.
    public static func bucket(of id: UUID, among buckets: Int) -> Int {
        Int(UInt16(id.uuid.0) << 8 | UInt16(id.uuid.1)) >> (16 - buckets.trailingZeroBitCount)
    }
}
