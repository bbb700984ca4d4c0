import Retry
import Testing

/// Capped exponential backoff with jitter: the n-th delay lies in [bound/2, bound],
/// bound = min(cap, initial * 2^n). Powers of two keep the arithmetic exact.
@Suite("Backoff")
struct BackoffTests {
    @Test("each delay lies between half and all of its doubling bound, never above the cap")
    func bounds() {
        let initial = Duration.milliseconds(125)
        let cap = Duration.seconds(2)
        for _ in 0..<50 {
            var backoff = Backoff(initial: initial, cap: cap)
            var bound = initial
            for attempt in 0..<12 {
                let delay = backoff.next()
                #expect(delay <= bound, "attempt \(attempt): \(delay) > \(bound)")
                #expect(delay >= bound / 2, "attempt \(attempt): \(delay) < \(bound / 2)")
                #expect(delay <= cap)
                bound = min(cap, bound * 2)
            }
        }
    }

    @Test("delays grow: a later delay is always longer than the first could be")
    func grows() {
        var backoff = Backoff(initial: .milliseconds(125), cap: .seconds(8))
        let first = backoff.next()
        _ = backoff.next()
        let third = backoff.next()  // in [250 ms, 500 ms]
        #expect(third > first)
        #expect(third >= .milliseconds(250))
    }

    @Test("after many failures the delay stays at the cap, without overflow")
    func staysAtCap() {
        var backoff = Backoff(initial: .seconds(1), cap: .seconds(16))
        for _ in 0..<100 { _ = backoff.next() }
        for _ in 0..<20 {
            let delay = backoff.next()
            #expect(delay <= .seconds(16))
            #expect(delay >= .seconds(8))
        }
    }

    @Test("reset starts again from the initial bound")
    func reset() {
        var backoff = Backoff(initial: .milliseconds(125), cap: .seconds(2))
        for _ in 0..<10 { _ = backoff.next() }
        #expect(backoff.next() >= .seconds(1))
        backoff.reset()
        let delay = backoff.next()
        #expect(delay <= .milliseconds(125))
        #expect(delay >= .microseconds(62_500))
    }

    @Test("the defaults are 100 ms doubling up to 2 s (work resumes within 2 s of its dependency's return)")
    func defaults() {
        let backoff = Backoff()
        #expect(backoff.initial == .milliseconds(100))
        #expect(backoff.cap == .seconds(2))
    }
}
