import Replication
import Synchronization

/// The replication status, read from the database at most once per ``maximumAge`` however many
/// callers ask: a caller gets the last reading while it is fresh, joins the reading in progress,
/// or starts one. So `/replication/status` costs O(1) per call; the digests' whole-table scan
/// runs at most once per `maximumAge` (and only while someone asks), never once per caller.
final class StatusCache: Sendable {
    private struct State {
        var last: (status: ReplicationStatus, readAt: ContinuousClock.Instant)?
        var reading: Task<ReplicationStatus, any Error>?
    }

    private enum Next {
        case fresh(ReplicationStatus, age: Duration)
        case wait(Task<ReplicationStatus, any Error>)
    }

    /// How old a reading may be and still be served.
    let maximumAge: Duration
    private let read: @Sendable () async throws -> ReplicationStatus
    private let state = Mutex(State())

    init(maximumAge: Duration = .seconds(1), read: @escaping @Sendable () async throws -> ReplicationStatus) {
        self.maximumAge = maximumAge
        self.read = read
    }

    /// The status and how old the reading is.
    func status() async throws -> (status: ReplicationStatus, age: Duration) {
        let next: Next = state.withLock { state in
            let now = ContinuousClock.now
            if let last = state.last, now - last.readAt < maximumAge { return .fresh(last.status, age: now - last.readAt) }
            if let reading = state.reading { return .wait(reading) }
            let reading = Task {
                do {
                    let status = try await self.read()
                    self.state.withLock {
                        $0.last = (status, .now); $0.reading = nil
                    }
                    return status
                } catch {
                    self.state.withLock { $0.reading = nil }
                    throw error
                }
            }
            state.reading = reading
            return .wait(reading)
        }
        switch next {
        case .fresh(let status, let age):
            return (status, age)
        case .wait(let reading):
            return (try await reading.value, .zero)
        }
    }
}
