import Contract
import Testing

/// W3C trace context's `traceparent` (docs/design.md#trace).
@Suite("traceparent")
struct TraceParentTests {
    @Test("a valid traceparent is read, and its child keeps the trace id with a new parent id")
    func valid() throws {
        let parent = try #require(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(parent.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parent.parentID == "00f067aa0ba902b7")
        #expect(parent.description == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let child = parent.child()
        #expect(child.traceID == parent.traceID)
        #expect(child.parentID != parent.parentID)
        #expect(TraceParent(child.description) == child)
        #expect(TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later") != nil, "a later version's first fields")
    }

    @Test(
        "a malformed traceparent is refused (a new trace starts instead)",
        arguments: [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ])
    func malformed(header: String) {
        #expect(TraceParent(header) == nil)
    }

    @Test("a new trace is valid and sampled")
    func start() {
        let trace = TraceParent.start()
        #expect(TraceParent(trace.description) == trace)
        #expect(trace.flags == 1)
    }
}
