import Contract
import Foundation
import Postgres
import Testing

@testable import Replication

/// The table digest that PostgreSQL computes agrees with the one Swift computes (the digest itself: `TableDigestTests`, a unit test).
@Suite("Table digest in PostgreSQL")
struct TableDigestDatabaseTests {
    @Test("PostgreSQL computes the same digest as TableDigest(ids:)", arguments: [0, 1, 2, 1000])
    func matchesDatabase(count: Int) async throws {
        try await withTestDatabase(migrate: false) { client, _ in
            try await client.query("CREATE TABLE digested (id uuid PRIMARY KEY)")
            let ids = (0..<count).map { _ in UUID() }
            if !ids.isEmpty {
                try await client.query("INSERT INTO digested (id) SELECT unnest($1::uuid[])", [ids])
            }
            let database = try await client.withConnection { try await TableDigest.read(table: "digested", on: $0) }
            #expect(database.count == Int64(count))
            #expect(database == TableDigest(ids: ids))
        }
    }

    @Test("the database's sum of signed values wraps like Swift's unsigned sum")
    func wrapsLikeSwift() async throws {
        // Ids whose md5 prefixes are large enough that the signed sum leaves Int64 range.
        var ids: [UUID] = []
        while ids.count < 8 {
            let id = UUID()
            if MD5.prefix64(of: Array(id.lowercased.utf8)) >= 0xc000_0000_0000_0000 { ids.append(id) }
        }
        let negativeSum = ids.reduce(0 as Int64) { $0 &+ Int64(bitPattern: MD5.prefix64(of: Array($1.lowercased.utf8))) }
        try await withTestDatabase(migrate: false) { client, _ in
            try await client.query("CREATE TABLE digested (id uuid PRIMARY KEY)")
            try await client.query("INSERT INTO digested (id) SELECT unnest($1::uuid[])", [ids])
            let sql = try await client.query(
                "SELECT sum(('x' || left(md5(id::text), 16))::bit(64)::bigint::numeric)::text FROM digested"
            )[0].decode(0, as: String.self)
            #expect(sql.hasPrefix("-"), "the exact sum \(sql) should be negative")
            let database = try await client.withConnection { try await TableDigest.read(table: "digested", on: $0) }
            #expect(database == TableDigest(ids: ids))
            #expect(database.digest == TableDigest.hex(UInt64(bitPattern: negativeSum)))
        }
    }
}
