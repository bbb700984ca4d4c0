import Foundation
import Synchronization

/// Measures the replication lag of a load test's changes as a client sees it: the time
/// from a change's 2xx answer until the peer's replica shows it. After the answer it reads
/// the record from the peer's replica until that shows the new version (or a later one) or,
/// for a deletion, no longer has the record.
///
/// When the read shows exactly the new version, its `replicatedAt` says when the replica
/// began to show it, so the figure is exact (0 when that was before the answer arrived;
/// the client's and the replica database's clocks are taken to agree, as on one host).
/// Otherwise (a deletion, or a later version already there) the figure runs to the read that
/// showed it: a change is read at once, then again after a third of the time it has waited
/// (at least 1 ms, at most 100 ms), so such a figure is at most about a third, plus a read's
/// round trip, above the true one. A few pollers share the changes, each reading the one due
/// soonest, so these reads add a bounded load however far replication falls behind.
///
/// A version that a deletion overtakes reads as absent before it ever showed: it gets no
/// figure. A record deleted before its creation reached the replica reads as deleted at once.
final class ChangeLagProbe: Sendable {
    /// What the replica must show.
    enum Expectation: Sendable {
        /// This version or a later one.
        case version(Int64)
        /// No record (a deletion).
        case deleted
    }

    private struct Watch: Sendable {
        var change: Int
        var id: String
        var source: ServiceClients.Service
        var expected: Expectation
        var answeredAt: ContinuousClock.Instant
        /// `answeredAt` by the wall clock (taken as the watch starts, just after the answer), to compare with the replica's `replicatedAt`.
        var answeredDate: Date
        var due: ContinuousClock.Instant
    }

    private enum Step {
        case read(Watch)
        case wait
        case finished
    }

    private struct State {
        var pending: [Watch] = []
        var deleted: Set<String> = []
        var lags: [Int: Duration] = [:]
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
            if case .deleted = expected { state.deleted.insert(id) }
            state.pending.append(
                Watch(change: change, id: id, source: source, expected: expected, answeredAt: answeredAt, answeredDate: Date(), due: answeredAt))
        }
    }

    /// No more changes come: the pollers end once every change showed, or at `deadline`
    /// (called again, it moves the deadline).
    func finish(by deadline: ContinuousClock.Instant) {
        state.withLock { $0.deadline = deadline }
    }

    /// Reads until ``finish(by:)`` and every change showed (or its deadline passed); returns
    /// the lag of each change that showed, by its number.
    func run() async -> [Int: Duration] {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<pollers {
                group.addTask { await self.poll() }
            }
        }
        return state.withLock { $0.lags }
    }

    private func poll() async {
        while true {
            switch next() {
            case .finished: return
            case .wait: try? await Task.sleep(for: .milliseconds(1))
            case .read(var watch):
                let found = await clients.replicaState(of: watch.id, ownedBy: watch.source)
                let now = clock.now
                state.withLock { state in
                    switch Self.outcome(of: watch, found: found, deleted: state.deleted.contains(watch.id)) {
                    case .shown(since: let replicatedAt?):
                        state.lags[watch.change] = .seconds(max(0, replicatedAt.timeIntervalSince(watch.answeredDate)))
                    case .shown(since: nil):
                        state.lags[watch.change] = now - watch.answeredAt
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

    private enum Outcome {
        /// The replica shows the change; since `replicatedAt` when that is when it began to.
        case shown(since: Date?)
        case notYet
        case overtaken
    }

    private static func outcome(of watch: Watch, found: ReplicaState, deleted: Bool) -> Outcome {
        switch (watch.expected, found) {
        case (_, .unreadable): .notYet
        case (.deleted, .absent): .shown(since: nil)
        case (.deleted, .present): .notYet
        case (.version(let expected), .present(let version, _, let replicatedAt)):
            version == expected ? .shown(since: replicatedAt) : version > expected ? .shown(since: nil) : .notYet
        case (.version, .absent): deleted ? .overtaken : .notYet
        }
    }
}
