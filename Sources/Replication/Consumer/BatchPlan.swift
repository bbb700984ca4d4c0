import Foundation

/// What becomes of each delivery of one batch, and in what order the consumer gets it there.
///
/// A value with no I/O: ``ReplicaConsumer`` reads the deliveries, runs the statements the plan
/// names, and tells the plan what the database answered. The steps, in order:
/// 1. ``deadLetters``: the poison deliveries, dead-lettered (then acked) beside the transaction,
///    which does not wait for them;
/// 2. ``inboxInserts``: the first delivery of each event id, in event-id order (the order in
///    which the inbox locks its keys, so two batches holding the same events never deadlock); a
///    later delivery of the same id is a ``ConsumeOutcome/duplicate``;
/// 3. ``inboxInserted(_:)``: an event the inbox had already is a duplicate; of the new events of
///    one record, the highest (epoch, version) is the one to write (``writes``, in record-id order), the
///    others are ``ConsumeOutcome/replay``s (an equal version: the first in event-id order writes);
/// 4. ``recordsWritten(_:)``: a write the replica did not take (its row was as new already) is a
///    replay too, the others are ``ConsumeOutcome/applied``;
/// 5. the transaction commits, and ``acks`` (every delivery that was not poison, in delivery order)
///    are acked together.
///
/// The outcomes are exactly those of applying the batch one event at a time, in any order.
struct BatchPlan: Sendable {
    /// One delivery of the batch, as the plan sees it.
    enum Delivery: Equatable, Sendable {
        /// A message that can never be applied (not an event, an unknown type, invalid data, a
        /// publisher that is not accepted).
        case poison
        /// A valid event: its id, and the id, version and source epoch of the record it carries.
        case event(id: UUID, record: UUID, version: Int64, epoch: Int64 = 1)
    }

    /// What becomes of one delivery.
    enum Disposition: Equatable, Sendable {
        /// Published to the dead-letter exchange, then acked.
        case deadLettered
        /// Acked after the commit, having done this.
        case consumed(ConsumeOutcome)
    }

    /// Where the plan is: each step's answer moves it on.
    enum Phase: Equatable, Sendable {
        /// Waiting for the event ids the inbox took (``inboxInserted(_:)``).
        case inbox
        /// Waiting for the records the replica took (``recordsWritten(_:)``).
        case writes
        /// Every delivery has its disposition.
        case decided
    }

    /// The batch, in delivery order; the plan's indices point into it.
    let deliveries: [Delivery]
    /// The poison deliveries, in delivery order.
    let deadLetters: [Int]
    /// The deliveries whose event ids go into the inbox, in event-id order.
    let inboxInserts: [Int]
    /// The deliveries acked after the commit: every one that is not poison, in delivery order.
    let acks: [Int]
    /// The deliveries whose records the handler writes, in record-id order (after ``inboxInserted(_:)``).
    private(set) var writes: [Int] = []
    /// The step the plan waits for.
    private(set) var phase = Phase.inbox
    private var outcomes: [ConsumeOutcome?]

    /// Plans `deliveries`: decides the dead letters, the acks and the duplicates within the batch.
    init(_ deliveries: [Delivery]) {
        self.deliveries = deliveries
        var outcomes = [ConsumeOutcome?](repeating: nil, count: deliveries.count)
        var deadLetters: [Int] = []
        var inboxInserts: [Int] = []
        var acks: [Int] = []
        inboxInserts.reserveCapacity(deliveries.count)
        acks.reserveCapacity(deliveries.count)
        var seen = Set<UUID>(minimumCapacity: deliveries.count)
        for (index, delivery) in deliveries.enumerated() {
            switch delivery {
            case .poison:
                deadLetters.append(index)
            case .event(let id, _, _, _):
                acks.append(index)
                if seen.insert(id).inserted {
                    inboxInserts.append(index)
                } else {
                    outcomes[index] = .duplicate
                }
            }
        }
        inboxInserts.sort { deliveries[$0].eventID! < deliveries[$1].eventID! }
        self.outcomes = outcomes
        self.deadLetters = deadLetters
        self.inboxInserts = inboxInserts
        self.acks = acks
        if inboxInserts.isEmpty { phase = .decided }
    }

    /// The inbox took `newEvents` of ``inboxInserts`` (the others it had already: duplicates);
    /// returns ``writes``, the newest new event of each record, in record-id order.
    @discardableResult
    mutating func inboxInserted(_ newEvents: Set<UUID>) -> [Int] {
        precondition(phase == .inbox, "the inbox step of a batch plan runs once, first")
        var newest: [UUID: Int] = [:]
        for index in inboxInserts {
            guard case .event(let id, let record, let version, let epoch) = deliveries[index], newEvents.contains(id) else {
                outcomes[index] = .duplicate
                continue
            }
            guard let current = newest[record] else {
                newest[record] = index
                continue
            }
            if (epoch, version) > deliveries[current].order! {
                outcomes[current] = .replay
                newest[record] = index
            } else {
                outcomes[index] = .replay
            }
        }
        writes = newest.values.sorted { deliveries[$0].recordID! < deliveries[$1].recordID! }
        phase = writes.isEmpty ? .decided : .writes
        return writes
    }

    /// The replica took the records `written` of ``writes``; the others were not newer than the
    /// rows already there (replays).
    mutating func recordsWritten(_ written: Set<UUID>) {
        precondition(phase == .writes, "the write step of a batch plan runs once, after the inbox step")
        for index in writes {
            outcomes[index] = written.contains(deliveries[index].recordID!) ? .applied : .replay
        }
        phase = .decided
    }

    /// What becomes of the delivery at `index`; nil while the steps that decide it are still to run.
    func disposition(of index: Int) -> Disposition? {
        if case .poison = deliveries[index] { return .deadLettered }
        return outcomes[index].map(Disposition.consumed)
    }

    /// The outcome of each delivery in ``acks``, in the same order (once ``phase`` is ``Phase/decided``).
    var ackedOutcomes: [ConsumeOutcome] {
        precondition(phase == .decided, "a batch plan's outcomes are known once it is decided")
        return acks.map { outcomes[$0]! }
    }

    /// The event ids of the replays, in delivery order (the inbox records their outcome).
    var replays: [UUID] {
        deliveries.indices.compactMap { outcomes[$0] == .replay ? deliveries[$0].eventID : nil }
    }

    /// How many deliveries are duplicates.
    var duplicateCount: Int {
        outcomes.count { $0 == .duplicate }
    }
}

extension BatchPlan.Delivery {
    fileprivate var eventID: UUID? {
        if case .event(let id, _, _, _) = self { id } else { nil }
    }

    fileprivate var recordID: UUID? {
        if case .event(_, let record, _, _) = self { record } else { nil }
    }

    /// The (epoch, version) of the record an event carries: what orders its changes.
    fileprivate var order: (epoch: Int64, version: Int64)? {
        if case .event(_, _, let version, let epoch) = self { (epoch, version) } else { nil }
    }
}
