import Foundation
import Histogram
import Synchronization

/// A record the load test created, the state the source last answered for it, and what
/// the check found in the peer's replica afterwards.
struct CreatedRecord: Sendable {
    var operation: LoadTestOperation
    var id: String
    /// When the request that created it was sent, since the load began.
    var sentAt: Duration
    /// How long that request took.
    var latency: Duration
    /// The source's `createdAt`.
    var createdAt: Date
    /// The highest version the source answered (1 from the create, then from each change).
    var version: Int64 = 1
    /// Whether the source answered a deletion of it.
    var deleted = false
    /// Whether a change of it failed without a definite answer (no answer, or 5xx), so it may
    /// have happened: the check reads the source's state instead of trusting ``version`` and ``deleted``.
    var uncertain = false
    /// The peer replica's `replicatedAt` (of the version it holds), once verified.
    var replicatedAt: Date?
    /// The version the peer's replica holds, once verified; nil when it has no such record.
    var replicaVersion: Int64?
}

/// A change the load test made, answered with 2xx.
struct RecordedChange: Sendable {
    var operation: LoadTestOperation
    var id: String
    /// The version the source answered; nil for a deletion.
    var version: Int64?
    /// When the request was sent, since the load began.
    var sentAt: Duration
    /// How long the request took.
    var latency: Duration
    /// From the change's commit at its source to the write of the peer's replica row (see ``ChangeLagProbe``).
    var lag: ChangeLagProbe.Lag?
}

/// Everything the workers of a load test record, behind one lock: which request
/// comes next, the records created and their last state, the changes, latencies,
/// errors, and the records that orders and changes may go to.
///
/// One short critical section per request; at a few thousand requests a second
/// the lock is not contended enough to matter.
final class LoadTestRecorder: Sendable {
    struct State {
        var nextIndex = 0
        var succeeded: [LoadTestOperation: Int] = [:]
        var failed: [LoadTestOperation: Int] = [:]
        var notYetReplicated = 0
        /// For every change, how long after its answer the lag probe first read it.
        var firstReadDelays: [Duration] = []
        var ordersForDeletedCustomers = 0
        /// Customers that orders, updates and deletes may go to: not deleted, no deletion in flight.
        var customers = TargetPool()
        /// Updates in flight per customer: a customer with one is not deleted meanwhile.
        var updatesInFlight: [String: Int] = [:]
        /// Customers this run deleted or is deleting.
        var deletedCustomers: Set<String> = []
        /// Orders that may be cancelled: not cancelled, no cancel in flight.
        var cancellableOrders = TargetPool()
        var records: [CreatedRecord] = []
        var recordIndex: [String: Int] = [:]
        var changes: [RecordedChange] = []
        var latency: [LoadTestOperation: Histogram<UInt64>] = [:]
        var errors: [String: Int] = [:]
        var errorExamples: [String: String] = [:]
        var generator = SystemRandomNumberGenerator()
    }

    /// A consistent view of the counters, for the progress line.
    struct Snapshot: Sendable {
        var done: Int
        var failed: Int
        var notYetReplicated: Int
    }

    private let state: Mutex<State>
    private let count: Int

    init(count: Int) {
        self.count = count
        var initial = State()
        initial.records.reserveCapacity(count)
        for operation in LoadTestOperation.allCases {
            // Microseconds, up to an hour, three significant digits.
            initial.latency[operation] = Histogram(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        }
        state = Mutex(initial)
    }

    /// The index of the next request to send, or nil when all `count` are taken.
    func claimIndex() -> Int? {
        state.withLock { state in
            guard state.nextIndex < count else { return nil }
            defer { state.nextIndex += 1 }
            return state.nextIndex
        }
    }

    /// A customer created earlier in this run and not deleted, at random; nil before the first one.
    func randomCustomer() -> String? {
        state.withLock { state in state.customers.randomElement(using: &state.generator) }
    }

    /// A record for `operation` to change, at random, taken so that no other request
    /// conflicts with it: a customer to update (not deleted while the update is in flight),
    /// a customer to delete (one with no update in flight; never picked again), an order to
    /// cancel (never picked again). Nil when there is none; each one taken must be handed
    /// back to ``changed(_:id:version:sentAt:latency:)`` or ``failed(_:id:kind:message:uncertain:)``.
    func claimTarget(for operation: LoadTestOperation) -> String? {
        state.withLock { state in
            switch operation {
            case .updateCustomer:
                guard let id = state.customers.randomElement(using: &state.generator) else { return nil }
                state.updatesInFlight[id, default: 0] += 1
                return id
            case .deleteCustomer:
                // A few tries for one with no update in flight; else none this time.
                for _ in 0..<8 {
                    guard let id = state.customers.randomElement(using: &state.generator) else { return nil }
                    guard state.updatesInFlight[id] == nil else { continue }
                    state.customers.remove(id)
                    state.deletedCustomers.insert(id)
                    return id
                }
                return nil
            case .cancelOrder:
                guard let id = state.cancellableOrders.randomElement(using: &state.generator) else { return nil }
                state.cancellableOrders.remove(id)
                return id
            case .createCustomer, .createOrder:
                return nil
            }
        }
    }

    /// Whether this run deleted customer `id` (or has a deletion of it in flight).
    func deletedCustomer(_ id: String) -> Bool {
        state.withLock { $0.deletedCustomers.contains(id) }
    }

    /// Records a successful create.
    func created(_ record: CreatedRecord) {
        state.withLock { state in
            state.recordIndex[record.id] = state.records.count
            state.records.append(record)
            state.recordSuccess(record.operation, latency: record.latency)
            switch record.operation {
            case .createCustomer: state.customers.insert(record.id)
            case .createOrder: state.cancellableOrders.insert(record.id)
            default: break
            }
        }
    }

    /// Records a successful change of record `id` (taken with ``claimTarget(for:)``): the
    /// version the source answered, or nil for a deletion. Returns the change's index.
    func changed(_ operation: LoadTestOperation, id: String, version: Int64?, sentAt: Duration, latency: Duration) -> Int {
        state.withLock { state in
            state.recordSuccess(operation, latency: latency)
            state.release(operation, id: id)
            if let index = state.recordIndex[id] {
                if let version {
                    state.records[index].version = max(state.records[index].version, version)
                } else {
                    state.records[index].deleted = true
                }
            }
            state.changes.append(RecordedChange(operation: operation, id: id, version: version, sentAt: sentAt, latency: latency))
            return state.changes.count - 1
        }
    }

    /// Records a failed change of record `id` (taken with ``claimTarget(for:)``) under its kind;
    /// `uncertain` when it may have happened all the same (no answer, or 5xx).
    func failed(_ operation: LoadTestOperation, id: String, kind: String, message: String, uncertain: Bool) {
        state.withLock { state in
            state.recordFailure(operation, kind: kind, message: message)
            state.release(operation, id: id)
            if operation == .deleteCustomer && !uncertain { state.deletedCustomers.remove(id) }
            if uncertain, let index = state.recordIndex[id] { state.records[index].uncertain = true }
        }
    }

    /// Records a failed create under its kind (`createOrder: HTTP 500 ...`).
    func failed(_ operation: LoadTestOperation, kind: String, message: String) {
        state.withLock { $0.recordFailure(operation, kind: kind, message: message) }
    }

    /// Counts a 422 unknown-customer that will be retried.
    func notYetReplicated() {
        state.withLock { $0.notYetReplicated += 1 }
    }

    /// Counts an order answered 422 unknown-customer because this run deleted its customer.
    func orderForDeletedCustomer() {
        state.withLock { $0.ordersForDeletedCustomers += 1 }
    }

    /// The counters for the progress line.
    func snapshot() -> Snapshot {
        state.withLock { state in
            Snapshot(
                done: state.succeeded.values.reduce(0, +) + state.failed.values.reduce(0, +),
                failed: state.failed.values.reduce(0, +),
                notYetReplicated: state.notYetReplicated
            )
        }
    }

    /// Everything recorded; call after the workers finished.
    func finalState() -> State {
        state.withLock { $0 }
    }
}

extension LoadTestRecorder.State {
    fileprivate mutating func recordSuccess(_ operation: LoadTestOperation, latency duration: Duration) {
        succeeded[operation, default: 0] += 1
        _ = latency[operation]?.record(UInt64(max(0, duration.microseconds)))
    }

    fileprivate mutating func recordFailure(_ operation: LoadTestOperation, kind: String, message: String) {
        failed[operation, default: 0] += 1
        let key = "\(operation.rawValue): \(kind)"
        errors[key, default: 0] += 1
        if errorExamples[key] == nil { errorExamples[key] = message }
    }

    /// Ends what ``LoadTestRecorder/claimTarget(for:)`` took for an update.
    fileprivate mutating func release(_ operation: LoadTestOperation, id: String) {
        guard operation == .updateCustomer, let inFlight = updatesInFlight[id] else { return }
        updatesInFlight[id] = inFlight > 1 ? inFlight - 1 : nil
    }
}

extension Duration {
    /// The duration in whole microseconds.
    var microseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }

    /// The duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in (fractional) milliseconds.
    var milliseconds: Double { seconds * 1000 }
}
