import Foundation
import Postgres

/// A table's row count and an order-independent digest of its ids: the
/// 64-bit wrapping sum of the first 8 bytes of `md5(id::text)` (the id in its
/// lowercase canonical form), as 16 hex digits. Equal sets of ids give equal
/// digests, whatever the order they arrived in.
public struct TableDigest: Sendable, Hashable {
    /// The number of rows.
    public var count: Int64
    /// 16 lowercase hex digits.
    public var digest: String

    /// Creates a digest.
    public init(count: Int64, digest: String) {
        self.count = count
        self.digest = digest
    }

    /// The digest of `ids`, computed the way the database computes it, so a client can compare.
    public init<IDs: Sequence>(ids: IDs) where IDs.Element == UUID {
        var count: Int64 = 0
        var sum: UInt64 = 0
        for id in ids {
            count += 1
            sum &+= MD5.prefix64(of: Array(id.uuidString.lowercased().utf8))
        }
        self.init(count: count, digest: Self.hex(sum))
    }

    /// Reads the digest of `table`'s rows that meet `condition` (`table` and `condition` are trusted
    /// constants: a name cannot be a bound parameter).
    public static func read(table: String, where condition: String = "true", on connection: PostgresConnection) async throws -> TableDigest {
        let result = try await connection.query(
            """
            SELECT count(*),
                   coalesce(sum(('x' || left(md5(id::text), 16))::bit(64)::bigint::numeric), 0)::text
            FROM \(table)
            WHERE \(condition)
            """
        )
        let count: Int64 = try result[0].decode(0)
        let sumText: String = try result[0].decode(1)
        return TableDigest(count: count, digest: hex(wrapping: sumText))
    }

    /// Reduces the exact decimal sum of signed 64-bit values modulo 2^64.
    static func hex(wrapping decimal: String) -> String {
        var negative = false
        var value: UInt64 = 0
        for character in decimal {
            if character == "-" { negative = true; continue }
            guard let digit = character.wholeNumberValue else { continue }
            value = value &* 10 &+ UInt64(digit)
        }
        return hex(negative ? 0 &- value : value)
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
