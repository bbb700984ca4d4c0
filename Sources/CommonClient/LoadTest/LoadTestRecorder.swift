import Foundation
import Histogram
import Synchronization

/// The creates a load test makes.
public enum LoadTestOperation: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable {
    /// `POST /customers` at CustomerService.
    case createCustomer
    /// `POST /orders` at OrderService.
    case createOrder
}

/// A record the load test created, and what it learned about it afterwards.
struct CreatedRecord: Sendable {
    var operation: LoadTestOperation
    var id: String
    /// When the request that created it was sent, since the load began.
    var sentAt: Duration
    /// How long that request took.
    var latency: Duration
    /// The source's `createdAt`.
    var createdAt: Date
    /// The peer replica's `replicatedAt`, once verified.
    var replicatedAt: Date?
}

/// Everything the workers of a load test record, behind one lock: which request
/// comes next, the records created, latencies, errors, and the customers that
/// orders may go to.
///
/// One short critical section per request; at a few thousand requests a second
/// the lock is not contended enough to matter.
final class LoadTestRecorder: Sendable {
    struct State {
        var nextIndex = 0
        var succeeded: [LoadTestOperation: Int] = [:]
        var failed: [LoadTestOperation: Int] = [:]
        var notYetReplicated = 0
        var customerIDs: [String] = []
        var records: [CreatedRecord] = []
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

    /// A customer created earlier in this run, at random; nil before the first one.
    func randomCustomer() -> String? {
        state.withLock { state in
            state.customerIDs.isEmpty ? nil : state.customerIDs.randomElement(using: &state.generator)
        }
    }

    /// Records a successful create.
    func created(_ record: CreatedRecord) {
        let microseconds = UInt64(max(0, record.latency.microseconds))
        state.withLock { state in
            state.records.append(record)
            state.succeeded[record.operation, default: 0] += 1
            _ = state.latency[record.operation]?.record(microseconds)
            if record.operation == .createCustomer { state.customerIDs.append(record.id) }
        }
    }

    /// Records a failed create under its kind (`createOrder: HTTP 500 ...`).
    func failed(_ operation: LoadTestOperation, kind: String, message: String) {
        state.withLock { state in
            state.failed[operation, default: 0] += 1
            let key = "\(operation.rawValue): \(kind)"
            state.errors[key, default: 0] += 1
            if state.errorExamples[key] == nil { state.errorExamples[key] = message }
        }
    }

    /// Counts a 422 unknown-customer that will be retried.
    func notYetReplicated() {
        state.withLock { $0.notYetReplicated += 1 }
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
