import Foundation
import Synchronization

/// Measures the replication lag of a load test's changes: from the change's commit at its
/// source (the `updatedAt` its answer carries; for a deletion, the `deletedAt` of the tombstone)
/// to the write of the peer's replica row (its `replicatedAt`; for a deletion, the tombstone's,
/// which the replica answers with 410). Both times come from the database clock, as for creates,
/// so the figure does not depend on when the probe happened to read.
///
/// After the answer it reads the record from the peer's replica until that shows the new
/// version (or a later one) or the tombstone. A read that shows a later version than the
/// change's gives only a bound: that version's `replicatedAt`, which is after the change showed
/// (if it ever showed alone). Such figures are counted apart and left out of the percentiles.
///
/// A change is read at once, then again after a third of the time it has waited (at least
/// 1 ms, at most 100 ms). A few pollers share the changes, each reading the one due soonest, so
/// these reads add a bounded load however far replication falls behind; how late the first
/// read of each change came (``Result/firstReadDelays``) shows how far the probe fell behind.
///
/// A version that a deletion overtakes before it showed gets no figure.
final class ChangeLagProbe: Sendable {
    /// What the replica must show.
    enum Expectation: Sendable {
        /// This version or a later one; the source committed it at `changedAt`.
        case version(Int64, changedAt: Date)
        /// The tombstone (a deletion).
        case deleted
    }

    /// One change's lag.
    struct Lag: Sendable, Equatable {
        var duration: Duration
        /// Whether the figure is a bound (a later version showed instead), not the change's own.
        var isBound: Bool
    }

    /// What the probe measured.
    struct Result: Sendable {
        /// The lag of each change that showed, by its number.
        var lags: [Int: Lag] = [:]
        /// For every change, how long after its answer the probe first read it.
        var firstReadDelays: [Duration] = []
    }

    private struct Watch: Sendable {
        var change: Int
        var id: String
        var source: ServiceClients.Service
        var expected: Expectation
        var answeredAt: ContinuousClock.Instant
        var due: ContinuousClock.Instant
        var reads = 0
    }

    private enum Step {
        case read(Watch)
        case wait
        case finished
    }

    private struct State {
        var pending: [Watch] = []
        var result = Result()
        var deadline: ContinuousClock.Instant?
    }

    private let clients: ServiceClients
    private let pollers: Int
    private let clock = ContinuousClock()
    private let state = Mutex(State())

    /// A probe that reads through `clients`, `pollers` reads in flight at most.
    init(clients: ServiceClients, pollers: Int) {
        self.clients = clients
        self.pollers = max(1, pollers)
    }

    /// Watches change number `change` of record `id` (owned by `source`), answered at `answeredAt`.
    func watch(change: Int, id: String, source: ServiceClients.Service, expected: Expectation, answeredAt: ContinuousClock.Instant) {
        state.withLock { state in
            state.pending.append(Watch(change: change, id: id, source: source, expected: expected, answeredAt: answeredAt, due: answeredAt))
        }
    }

    /// No more changes come: the pollers end once every change showed, or at `deadline`
    /// (called again, it moves the deadline).
    func finish(by deadline: ContinuousClock.Instant) {
        state.withLock { $0.deadline = deadline }
    }

    /// Reads until ``finish(by:)`` and every change showed (or its deadline passed).
    func run() async -> Result {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<pollers {
                group.addTask { await self.poll() }
            }
        }
        return state.withLock { $0.result }
    }

    private func poll() async {
        while true {
            switch next() {
            case .finished: return
            case .wait: try? await Task.sleep(for: .milliseconds(1))
            case .read(var watch):
                let readAt = clock.now
                let found = await clients.replicaState(of: watch.id, ownedBy: watch.source)
                let now = clock.now
                state.withLock { state in
                    if watch.reads == 0 { state.result.firstReadDelays.append(readAt - watch.answeredAt) }
                    watch.reads += 1
                    switch Self.outcome(of: watch.expected, found: found) {
                    case .shown(let lag): state.result.lags[watch.change] = lag
                    case .overtaken: break
                    case .notYet:
                        let waited = now - watch.answeredAt
                        watch.due = now + min(max(waited / 3, .milliseconds(1)), .milliseconds(100))
                        state.pending.append(watch)
                    }
                }
            }
        }
    }

    /// Takes the watch that is due soonest, if it is due.
    private func next() -> Step {
        state.withLock { state in
            let now = clock.now
            if let deadline = state.deadline, state.pending.isEmpty || now >= deadline { return .finished }
            guard let soonest = state.pending.indices.min(by: { state.pending[$0].due < state.pending[$1].due }),
                state.pending[soonest].due <= now
            else { return .wait }
            return .read(state.pending.remove(at: soonest))
        }
    }

    enum Outcome: Equatable {
        /// The replica shows the change.
        case shown(Lag)
        case notYet
        /// A deletion came first.
        case overtaken
    }

    /// What one read (`found`) says of a change that must show as `expected`.
    static func outcome(of expected: Expectation, found: ReplicaState) -> Outcome {
        switch (expected, found) {
        case (_, .unreadable), (_, .absent), (.deleted, .present): .notYet
        case (.deleted, .deleted(let deletedAt, let replicatedAt)): .shown(Lag(duration: since(deletedAt, replicatedAt), isBound: false))
        case (.version(let expected, let changedAt), .present(let version, _, let replicatedAt)):
            version < expected ? .notYet : .shown(Lag(duration: since(changedAt, replicatedAt), isBound: version > expected))
        case (.version, .deleted): .overtaken
        }
    }

    /// From `start` to `end`, never below zero.
    private static func since(_ start: Date, _ end: Date) -> Duration {
        .seconds(max(0, end.timeIntervalSince(start)))
    }
}
