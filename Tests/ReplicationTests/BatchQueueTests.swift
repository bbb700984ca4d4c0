import Testing

@testable import Replication

/// The queue that forms the consumer's batches, without servers.
@Suite("Batch queue")
struct BatchQueueTests {
    @Test("a worker takes everything waiting, oldest first, up to its limit")
    func takesWhatIsWaiting() async {
        let queue = BatchQueue<Int>()
        for value in 1...7 {
            queue.push(value)
        }
        #expect(await queue.take(max: 5) == [1, 2, 3, 4, 5])
        #expect(await queue.take(max: 5) == [6, 7])
    }

    @Test("an idle worker gets the next element alone, as soon as it is pushed")
    func idleWorkerGetsTheNextElement() async {
        let queue = BatchQueue<Int>()
        async let taken = queue.take(max: 10)
        // Let the worker wait first, then push.
        while queue.waiting == 0 {
            await Task.yield()
        }
        queue.push(42)
        queue.push(43)
        #expect(await taken == [42])
        #expect(await queue.take(max: 10) == [43])
    }

    @Test("removeAll drops what waits (deliveries of a lost connection) and the queue goes on")
    func removeAllDropsWhatWaits() async {
        let queue = BatchQueue<Int>()
        for value in 1...3 {
            queue.push(value)
        }
        queue.removeAll()
        queue.push(4)
        #expect(await queue.take(max: 10) == [4])
    }

    @Test("finishing wakes waiting workers with nil and drops what was not taken")
    func finishEndsTheWorkers() async {
        let queue = BatchQueue<Int>()
        async let first = queue.take(max: 10)
        async let second = queue.take(max: 10)
        while queue.waiting < 2 {
            await Task.yield()
        }
        queue.finish()
        #expect(await first == nil)
        #expect(await second == nil)
        queue.push(1)
        #expect(await queue.take(max: 10) == nil)
    }

    @Test("as the relay's wake-ups: pushes while every worker is busy are taken as one")
    func wakeUpsCoalesce() async {
        let wakeUps = BatchQueue<Void>()
        for _ in 0..<1000 {
            wakeUps.push(())
        }
        #expect(await wakeUps.take(max: .max)?.count == 1000)
        let idle = Task { await wakeUps.take(max: .max) }
        while wakeUps.waiting == 0 {
            await Task.yield()
        }
        wakeUps.push(())
        #expect(await idle.value?.count == 1, "one push wakes one idle worker at once")
    }

    @Test("a cancelled worker stops waiting")
    func cancellation() async {
        let queue = BatchQueue<Int>()
        let worker = Task { await queue.take(max: 10) }
        while queue.waiting == 0 {
            await Task.yield()
        }
        worker.cancel()
        #expect(await worker.value == nil)
        #expect(queue.waiting == 0)
        queue.push(5)
        #expect(await queue.take(max: 10) == [5], "the element went to the queue, not to the cancelled worker")
    }
}
