import Foundation
import Testing

@testable import Replication

/// The outcome of a consumer's batch, step by step, without a database: the test plays the
/// inbox and the replica by answering each step.
@Suite struct BatchPlanTests {
    /// Ids that sort in the order of `n` (UUIDs compare by their bytes).
    static func id(_ n: UInt8) -> UUID {
        UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n))
    }

    static let recordA = id(0xA0)
    static let recordB = id(0xB0)

    static func event(_ n: UInt8, record: UUID = recordA, version: Int64, epoch: Int64 = 1) -> BatchPlan.Delivery {
        .event(id: id(n), record: record, version: version, epoch: epoch)
    }

    @Test("of one record's new events, a later epoch is written whatever its version; the higher version of an earlier epoch is a replay")
    func laterEpochWins() {
        var plan = BatchPlan([Self.event(1, version: 5, epoch: 1), Self.event(2, version: 2, epoch: 2), Self.event(3, version: 7, epoch: 1)])
        let writes = plan.inboxInserted([Self.id(1), Self.id(2), Self.id(3)])
        #expect(writes == [1])
    }

    /// The dispositions of every delivery, in delivery order.
    static func dispositions(_ plan: BatchPlan) -> [BatchPlan.Disposition?] {
        plan.deliveries.indices.map(plan.disposition(of:))
    }

    @Test func aDuplicateIdAndAnOlderAndANewerVersionOfOneRecordInOneBatch() {
        // Delivered: version 2 (event 5), the same event again, version 1 (event 3), version 3 (event 7).
        var plan = BatchPlan([Self.event(5, version: 2), Self.event(5, version: 2), Self.event(3, version: 1), Self.event(7, version: 3)])
        #expect(plan.deadLetters == [])
        // The second delivery of event 5 is a duplicate before the database is asked.
        #expect(plan.disposition(of: 1) == .consumed(.duplicate))
        // The inbox gets each id once, in id order.
        #expect(plan.inboxInserts == [2, 0, 3])
        #expect(plan.phase == .inbox)

        // All three are new to the inbox: only the newest version writes the record.
        #expect(plan.inboxInserted([Self.id(3), Self.id(5), Self.id(7)]) == [3])
        #expect(plan.phase == .writes)
        plan.recordsWritten([Self.recordA])
        #expect(plan.phase == .decided)

        #expect(Self.dispositions(plan) == [.consumed(.replay), .consumed(.duplicate), .consumed(.replay), .consumed(.applied)])
        #expect(plan.acks == [0, 1, 2, 3])
        #expect(plan.ackedOutcomes == [.replay, .duplicate, .replay, .applied])
        #expect(plan.replays == [Self.id(5), Self.id(3)])
        #expect(plan.duplicateCount == 1)
    }

    @Test func anEventTheInboxHadAlreadyIsADuplicateAndDoesNotWrite() {
        var plan = BatchPlan([Self.event(1, version: 4), Self.event(2, version: 5)])
        // Event 2 (the newer version) was consumed before: event 1 is the one to write.
        #expect(plan.inboxInserted([Self.id(1)]) == [0])
        plan.recordsWritten([Self.recordA])
        #expect(plan.ackedOutcomes == [.applied, .duplicate])
        #expect(plan.duplicateCount == 1)
        #expect(plan.replays == [])
    }

    @Test func aWriteTheReplicaDidNotTakeIsAReplay() {
        var plan = BatchPlan([Self.event(1, record: Self.recordB, version: 1), Self.event(2, record: Self.recordA, version: 1)])
        // Writes go in record-id order: record A (event 2) first.
        #expect(plan.inboxInserted([Self.id(1), Self.id(2)]) == [1, 0])
        // The replica already held record B at this version or newer.
        plan.recordsWritten([Self.recordA])
        #expect(plan.ackedOutcomes == [.replay, .applied])
        #expect(plan.replays == [Self.id(1)])
    }

    @Test func twoNewEventsWithTheSameVersionWriteTheFirstInIdOrder() {
        var plan = BatchPlan([Self.event(9, version: 2), Self.event(4, version: 2)])
        #expect(plan.inboxInserted([Self.id(4), Self.id(9)]) == [1])
        plan.recordsWritten([Self.recordA])
        #expect(plan.ackedOutcomes == [.replay, .applied])
    }

    @Test func poisonInTheMiddleOfABatchIsDeadLetteredAndTheOthersApply() {
        var plan = BatchPlan([
            Self.event(1, record: Self.recordA, version: 1), .poison, Self.event(2, record: Self.recordB, version: 1), .poison,
        ])
        #expect(plan.deadLetters == [1, 3])
        #expect(plan.acks == [0, 2])
        #expect(plan.disposition(of: 1) == .deadLettered)
        #expect(plan.disposition(of: 0) == nil)
        #expect(plan.inboxInserts == [0, 2])
        #expect(plan.inboxInserted([Self.id(1), Self.id(2)]) == [0, 2])
        plan.recordsWritten([Self.recordA, Self.recordB])
        #expect(Self.dispositions(plan) == [.consumed(.applied), .deadLettered, .consumed(.applied), .deadLettered])
        #expect(plan.ackedOutcomes == [.applied, .applied])
    }

    @Test func aBatchOfPoisonOnlyIsDecidedAtOnceAndAcksNothingAfterACommit() {
        let plan = BatchPlan([.poison, .poison])
        #expect(plan.phase == .decided)
        #expect(plan.deadLetters == [0, 1])
        #expect(plan.acks == [])
        #expect(plan.inboxInserts == [])
    }

    @Test func aBatchOfDuplicatesWritesNothing() {
        var plan = BatchPlan([Self.event(1, version: 1), Self.event(2, version: 2), Self.event(1, version: 1)])
        #expect(plan.inboxInserts == [0, 1])
        // The inbox had both events: nothing is new.
        #expect(plan.inboxInserted([]) == [])
        #expect(plan.phase == .decided)
        #expect(plan.writes == [])
        #expect(plan.ackedOutcomes == [.duplicate, .duplicate, .duplicate])
        #expect(plan.duplicateCount == 3)
        #expect(plan.replays == [])
    }

    @Test func theRecordsOfABatchAreDecidedEachOnItsOwn() {
        var plan = BatchPlan([
            Self.event(1, record: Self.recordB, version: 2), Self.event(2, record: Self.recordA, version: 7),
            Self.event(3, record: Self.recordB, version: 3), Self.event(4, record: Self.recordA, version: 6),
        ])
        #expect(plan.inboxInserted([Self.id(1), Self.id(2), Self.id(3), Self.id(4)]) == [1, 2])
        plan.recordsWritten([Self.recordA, Self.recordB])
        #expect(plan.ackedOutcomes == [.replay, .applied, .applied, .replay])
        #expect(plan.replays == [Self.id(1), Self.id(4)])
    }
}
