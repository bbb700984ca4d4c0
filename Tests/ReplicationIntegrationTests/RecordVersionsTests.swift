import Contract
import Foundation
import Postgres
import Testing

@testable import Replication

/// The bucketed `(id, version, deleted, content)` digests a verifier compares (docs/design.md#repair).
@Suite("Record versions (verify)")
struct RecordVersionsTests {
    @Test("own records (rows and tombstones) and a replica give the same digests as Swift computes, and their records bucket by bucket")
    func digestsAndRecords() async throws {
        try await withTestDatabase(migrate: false) { client, _ in
            try await client.query("CREATE TABLE own (id uuid PRIMARY KEY, version bigint NOT NULL, name text NOT NULL)")
            try await client.query("CREATE TABLE gone (id uuid PRIMARY KEY, version bigint NOT NULL)")
            try await client.query("CREATE TABLE copy (id uuid PRIMARY KEY, version bigint NOT NULL, name text, deleted_at timestamptz)")
            // A record's content is the hash of its name, in SQL `left(md5(name), 16)`.
            let names = (0..<300).map { "name \($0 % 50)" }
            let live = names.map { name in
                RecordVersion(
                    id: UUID(), version: Int64.random(in: 1...9), deleted: false, content: TableDigest.hex(MD5.prefix64(of: Array(name.utf8))))
            }
            let deleted = (0..<40).map { _ in RecordVersion(id: UUID(), version: Int64.random(in: 2...9), deleted: true) }
            try await client.query(
                "INSERT INTO own SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[])", [live.map(\.id), live.map(\.version), names])
            try await client.query("INSERT INTO gone SELECT * FROM unnest($1::uuid[], $2::bigint[])", [deleted.map(\.id), deleted.map(\.version)])
            let all = live + deleted
            try await client.query(
                """
                INSERT INTO copy SELECT id, version, name, CASE WHEN deleted THEN now() END
                FROM unnest($1::uuid[], $2::bigint[], $3::bool[], $4::text[]) AS t(id, version, deleted, name)
                """,
                [all.map(\.id), all.map(\.version), all.map(\.deleted), names + deleted.map { _ in nil as String? }])

            let own = RecordVersions.own(table: "own", tombstones: "gone", content: "left(md5(name), 16)")
            let replica = RecordVersions.replica(table: "copy", content: "left(md5(name), 16)")
            let buckets = 16
            let ownDigest = try await client.withConnection { try await own.digest(buckets: buckets, on: $0) }
            let replicaDigest = try await client.withConnection { try await replica.digest(buckets: buckets, on: $0) }
            #expect(ownDigest.count == 340)
            #expect(ownDigest.buckets == replicaDigest.buckets)
            for bucket in 0..<buckets {
                let expected = all.filter { RecordVersions.bucket(of: $0.id, among: buckets) == bucket }
                let sum = expected.reduce(0 as UInt64) { $0 &+ $1.digestTerm }
                #expect(ownDigest.buckets[bucket] == TableDigest(count: Int64(expected.count), digest: TableDigest.hex(sum)), "bucket \(bucket)")
                // Paged by id, 7 at a time.
                var read: [RecordVersion] = []
                while true {
                    let page = try await own.records(bucket: bucket, of: buckets, after: read.last?.id, limit: 7, in: client)
                    read += page
                    if page.count < 7 { break }
                }
                let sorted = expected.sorted { $0.id.uuidString < $1.id.uuidString }
                #expect(read == sorted, "bucket \(bucket)")
            }

            // One stale row, one lost row and one row with another name at the same version change exactly their buckets.
            try await client.query("UPDATE copy SET version = version - 1 WHERE id = $1", [live[0].id])
            try await client.query("DELETE FROM copy WHERE id = $1", [deleted[0].id])
            try await client.query("UPDATE copy SET name = 'another' WHERE id = $1", [live[1].id])
            let changed = try await client.withConnection { try await replica.digest(buckets: buckets, on: $0) }
            let differing = (0..<buckets).filter { changed.buckets[$0] != ownDigest.buckets[$0] }
            let touched = Set([live[0].id, deleted[0].id, live[1].id].map { RecordVersions.bucket(of: $0, among: buckets) })
            #expect(Set(differing) == touched)
        }
    }
}
