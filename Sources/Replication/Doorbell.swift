import Synchronization

/// Wakes one of several idle workers, or, when all are busy, the next one to finish.
///
/// Rings coalesce: any number of them while every worker is busy leave one ring
/// pending, which is what a relay needs (one drain picks up every row committed
/// meanwhile), and ringing costs a lock and at most one resumption, however often
/// commits ring it.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextWaiterID = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Wakes the longest-waiting idle worker, or leaves a ring for the next one to wait.
    func ring() {
        let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
            guard !state.closed else { return nil }
            guard !state.waiters.isEmpty else {
                state.rung = true
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: true)
    }

    /// Ends waiting for good: waiting and later ``wait()`` calls return false.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter.continuation.resume(returning: false)
        }
    }

    /// Returns true when rung (at once if a ring is pending), false when closed or the task is cancelled.
    func wait() async -> Bool {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { state in
                    if state.closed || Task.isCancelled { return false }
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate {
                    continuation.resume(returning: immediate)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(returning: false)
        }
    }
}
