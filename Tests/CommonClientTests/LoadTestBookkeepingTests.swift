import Foundation
import Testing

@testable import CommonClient

/// The load test's bookkeeping, without a server: the mix of operations, and how a replica
/// read compares with what the source last answered.
@Suite("Load test bookkeeping")
struct LoadTestBookkeepingTests {
    @Test("each operation gets its share of the requests, in every stretch of the run")
    func mixFollowsTheRatios() {
        let configuration = LoadTestConfiguration(orderRatio: 0.4, updateRatio: 0.1, deleteRatio: 0.02, cancelRatio: 0.05)
        let shares = Dictionary(uniqueKeysWithValues: configuration.shares.map { ($0.operation, $0.share) })
        for stretch in [0..<1000, 5000..<6000] {
            var counts: [LoadTestOperation: Int] = [:]
            for index in stretch { counts[configuration.operation(at: index), default: 0] += 1 }
            for operation in LoadTestOperation.allCases {
                let expected = shares[operation, default: 0] * 1000
                #expect(abs(Double(counts[operation, default: 0]) - expected) <= 3, "\(operation): \(counts[operation, default: 0])")
            }
        }
        let off = LoadTestConfiguration(orderRatio: 1, updateRatio: 0, deleteRatio: 0.5, cancelRatio: 0)
        let operations = Set((0..<1000).map(off.operation(at:)))
        #expect(operations == [.createOrder, .deleteCustomer], "a ratio of 0 turns an operation off")
    }

    @Test("a replica read is exact, lost, stale, revived or different")
    func replicaMatches() {
        let createdAt = Date(timeIntervalSince1970: 1_800_000_000)
        var record = CreatedRecord(operation: .createCustomer, id: "c", sentAt: .zero, latency: .zero, createdAt: createdAt, version: 3)
        func read(_ version: Int64, createdAt: Date = createdAt) -> ReplicaState {
            .present(version: version, createdAt: createdAt, replicatedAt: createdAt)
        }
        #expect(ConvergenceCheck.match(record, found: read(3)) == .exact)
        #expect(ConvergenceCheck.match(record, found: read(2)) == .stale)
        #expect(ConvergenceCheck.match(record, found: read(4)) == .different)
        #expect(ConvergenceCheck.match(record, found: read(3, createdAt: createdAt + 1)) == .different)
        #expect(ConvergenceCheck.match(record, found: .absent) == .lost)
        #expect(ConvergenceCheck.match(record, found: .unreadable) == .lost)
        record.deleted = true
        #expect(ConvergenceCheck.match(record, found: .absent) == .exact)
        #expect(ConvergenceCheck.match(record, found: read(3)) == .revived)
        #expect(ConvergenceCheck.match(record, found: read(4)) == .revived)
    }
}
