import Synchronization
import Testing

@testable import Replication

/// The relay's wake-up signal, without servers.
@Suite("Doorbell")
struct DoorbellTests {
    @Test("rings while nobody waits coalesce into one pending ring")
    func ringsCoalesce() async {
        let doorbell = Doorbell()
        for _ in 0..<100 {
            doorbell.ring()
        }
        #expect(await doorbell.wait())
        // The hundred rings left one, which was taken: the next wait has to be rung again.
        let second = Task { await doorbell.wait() }
        try? await Task.sleep(for: .milliseconds(50))
        doorbell.ring()
        #expect(await second.value)
    }

    @Test("a ring wakes one waiting worker, not all of them")
    func wakesOne() async {
        let doorbell = Doorbell()
        let woken = Counter()
        let workers = (0..<3).map { _ in
            Task {
                if await doorbell.wait() { woken.add() }
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        doorbell.ring()
        try? await Task.sleep(for: .milliseconds(50))
        #expect(woken.value == 1)
        doorbell.close()
        for worker in workers {
            await worker.value
        }
        #expect(woken.value == 1, "closing wakes the others with false")
        #expect(await doorbell.wait() == false)
    }

    @Test("a cancelled worker stops waiting")
    func cancellation() async {
        let doorbell = Doorbell()
        let worker = Task { await doorbell.wait() }
        try? await Task.sleep(for: .milliseconds(20))
        worker.cancel()
        #expect(await worker.value == false)
        doorbell.ring()
        #expect(await doorbell.wait(), "the ring was kept for the next worker")
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
