import Foundation
import Testing

@testable import Replication

/// How a verifier splits the id space into buckets (the digests: `RecordVersionsTests`, an integration test).
@Suite("Record versions: buckets")
struct RecordVersionBucketTests {
    @Test("the buckets of N are the id ranges of its first log2(N) bits, and cover every id once", arguments: [1, 2, 16, 256, 4096])
    func bucketRanges(buckets: Int) {
        for _ in 0..<200 {
            let id = UUID()
            let bucket = RecordVersions.bucket(of: id, among: buckets)
            let (lower, upper) = RecordVersions.range(bucket: bucket, of: buckets)
            #expect(lower.uuidString <= id.uuidString)
            let belowUpper = upper.map { id.uuidString < $0.uuidString } ?? true
            #expect(belowUpper)
        }
        #expect(RecordVersions.range(bucket: buckets - 1, of: buckets).upper == nil)
        #expect(RecordVersions.range(bucket: 0, of: buckets).lower == UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
    }

    @Test(
        "only powers of two from 1 to 4096 are bucket counts",
        arguments: [(1, true), (4096, true), (256, true), (0, false), (3, false), (8192, false)])
    func validBuckets(buckets: Int, valid: Bool) {
        #expect(RecordVersions.isValid(buckets: buckets) == valid)
    }
}
