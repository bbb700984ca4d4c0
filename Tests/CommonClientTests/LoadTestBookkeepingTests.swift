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
        #expect(ConvergenceCheck.match(record, found: .deleted(deletedAt: createdAt, replicatedAt: createdAt)) == .different)
        record.deleted = true
        #expect(ConvergenceCheck.match(record, found: .deleted(deletedAt: createdAt, replicatedAt: createdAt)) == .exact)
        #expect(ConvergenceCheck.match(record, found: .absent) == .lost, "a deletion leaves a tombstone: absent is not arrived")
        #expect(ConvergenceCheck.match(record, found: read(3)) == .revived)
        #expect(ConvergenceCheck.match(record, found: read(4)) == .revived)
    }

    @Test("a change's lag runs from its commit at the source to the replica's write, a bound when a later version showed instead")
    func changeLags() {
        let committed = Date(timeIntervalSince1970: 1_800_000_000)
        let written = committed + 0.0625
        let update = ChangeLagProbe.Expectation.version(3, changedAt: committed)
        func present(_ version: Int64) -> ReplicaState { .present(version: version, createdAt: committed - 60, replicatedAt: written) }
        let exact = ChangeLagProbe.Outcome.shown(.init(duration: .microseconds(62500), isBound: false))
        let bound = ChangeLagProbe.Outcome.shown(.init(duration: .microseconds(62500), isBound: true))
        #expect(ChangeLagProbe.outcome(of: update, found: present(3)) == exact)
        #expect(ChangeLagProbe.outcome(of: update, found: present(4)) == bound)
        #expect(ChangeLagProbe.outcome(of: update, found: present(2)) == .notYet)
        #expect(ChangeLagProbe.outcome(of: update, found: .absent) == .notYet)
        #expect(ChangeLagProbe.outcome(of: update, found: .unreadable) == .notYet)
        #expect(ChangeLagProbe.outcome(of: update, found: .deleted(deletedAt: committed, replicatedAt: written)) == .overtaken)
        #expect(ChangeLagProbe.outcome(of: .deleted, found: .deleted(deletedAt: committed, replicatedAt: written)) == exact)
        #expect(ChangeLagProbe.outcome(of: .deleted, found: present(3)) == .notYet, "the deletion has not arrived")
        #expect(ChangeLagProbe.outcome(of: .deleted, found: .absent) == .notYet, "nor has the record: its tombstone will")
        let early = ChangeLagProbe.Expectation.version(3, changedAt: written + 1)
        #expect(
            ChangeLagProbe.outcome(of: early, found: present(3)) == .shown(.init(duration: .zero, isBound: false)), "clocks apart: 0, never negative")
    }
}
