import Synchronization

/// A queue between producers and several workers, where a worker takes everything
/// that is waiting (up to a limit) at once.
///
/// This is what makes the consumer's batches adaptive: while the workers keep up, each
/// delivery is taken alone as soon as it arrives (no added latency); when they fall
/// behind, deliveries pile up and the next worker takes them as one batch. The queue
/// itself is unbounded; the broker's prefetch bounds what can be in it (the consumer
/// empties it with ``removeAll()`` when the connection its deliveries came from is lost).
///
/// The relay's wake-ups are a `BatchQueue<Void>` taken with no limit: a commit wakes one
/// idle worker, and any number of commits while all are busy are one pending drain.
final class BatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var elements: [Element] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<[Element]?, Never>)] = []
        var nextWaiterID = 0
        var finished = false
    }

    private let state = Mutex(State())

    /// Workers waiting for an element.
    var waiting: Int {
        state.withLock { $0.waiters.count }
    }

    /// Adds an element, handing it straight to a waiting worker if there is one.
    func push(_ element: Element) {
        let waiter: CheckedContinuation<[Element]?, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            guard !state.waiters.isEmpty else {
                state.elements.append(element)
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: [element])
    }

    /// Drops the elements not taken yet (the queue stays open).
    func removeAll() {
        state.withLock { $0.elements.removeAll() }
    }

    /// Ends the queue: waiting and later ``take(max:)`` calls return nil, and elements not
    /// taken yet are dropped (the caller settles them some other way, e.g. by closing the
    /// connection they came from, which returns them to the broker).
    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            state.elements.removeAll()
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter.continuation.resume(returning: nil)
        }
    }

    /// Up to `max` elements, oldest first, waiting for the first one; nil once the queue is
    /// finished or the calling task is cancelled.
    func take(max: Int) async -> [Element]? {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Element]?, Never>) in
                let immediate: [Element]?? = state.withLock { state in
                    if state.finished || Task.isCancelled { return .some(nil) }
                    if !state.elements.isEmpty {
                        let count = Swift.min(max, state.elements.count)
                        defer { state.elements.removeFirst(count) }
                        return .some(Array(state.elements.prefix(count)))
                    }
                    state.waiters.append((id, continuation))
                    return .none
                }
                if let immediate {
                    continuation.resume(returning: immediate)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(returning: nil)
        }
    }
}
