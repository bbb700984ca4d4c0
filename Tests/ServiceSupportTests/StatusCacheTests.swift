import Foundation
import Synchronization
import Testing

@testable import Replication
@testable import ServiceSupport

/// `/replication/status` costs O(1) per call: many callers share one reading.
@Suite("Status cache")
struct StatusCacheTests {
    static let status = ReplicationStatus(
        outbox: OutboxBacklog(pending: 0, oldestPendingAgeMs: 0, lastPublishedSequence: 0), processed: 0, duplicates: 0, deadLettered: 0,
        replica: TableDigest(count: 0, digest: "0"), source: TableDigest(count: 0, digest: "0"))

    @Test("100 concurrent callers cause one reading; a fresh reading is served with its age; a stale one is read again")
    func oneReadingForManyCallers() async throws {
        let reads = Mutex(0)
        // Ages far apart, so that the test does not depend on how fast a loaded machine runs it.
        func cache(maximumAge: Duration) -> StatusCache {
            StatusCache(maximumAge: maximumAge) {
                reads.withLock { $0 += 1 }
                try await Task.sleep(for: .milliseconds(50))
                return Self.status
            }
        }
        let fresh = cache(maximumAge: .seconds(600))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask { _ = try await fresh.status() }
            }
            try await group.waitForAll()
        }
        #expect(reads.value == 1)
        #expect(try await fresh.status().age > .zero, "served from the reading, with its age")
        #expect(reads.value == 1)

        let stale = cache(maximumAge: .milliseconds(1))
        _ = try await stale.status()
        try await Task.sleep(for: .milliseconds(20))
        _ = try await stale.status()
        #expect(reads.value == 3, "a reading older than the maximum age is read again")
    }

    @Test("a failed reading is not kept: the next caller reads again")
    func failureIsNotCached() async throws {
        struct Down: Error {}
        let reads = Mutex(0)
        let cache = StatusCache {
            let count = reads.withLock {
                $0 += 1; return $0
            }
            if count == 1 { throw Down() }
            return Self.status
        }
        await #expect(throws: Down.self) { try await cache.status() }
        _ = try await cache.status()
        #expect(reads.value == 2)
    }
}

extension Mutex where Value == Int {
    /// The count, read under the lock.
    fileprivate var value: Int { withLock { $0 } }
}
