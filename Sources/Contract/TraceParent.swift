import Foundation

/// W3C trace context (`traceparent`, https://www.w3.org/TR/trace-context/): a trace id shared by
/// everything a request causes, and the id of the span that caused the next step. A service
/// accepts it on HTTP (or starts a trace), stores it with the outbox row of each change, sends
/// it as an AMQP header, and the consumer continues it (docs/design.md#trace).
public struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public var traceID: String
    /// 16 lowercase hex digits, not all zero: the span that caused what comes next.
    public var parentID: String
    /// The trace flags (bit 0: sampled).
    public var flags: UInt8

    /// The trace of the current request or event, if any.
    @TaskLocal public static var current: TraceParent?

    /// Parses version 00 (and, as the specification asks, the first four fields of a later version);
    /// nil for anything malformed.
    public init?(_ header: String) {
        let fields = header.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, let version = UInt8(fields[0], radix: 16), fields[0].count == 2, version != 0xff,
            version != 0 || fields.count == 4,
            Self.isHex(fields[1], count: 32), Self.isHex(fields[2], count: 16), fields[3].count == 2, let flags = UInt8(fields[3], radix: 16)
        else { return nil }
        traceID = String(fields[1])
        parentID = String(fields[2])
        self.flags = flags
    }

    private init(traceID: String, parentID: String, flags: UInt8) {
        (self.traceID, self.parentID, self.flags) = (traceID, parentID, flags)
    }

    /// A new trace, sampled.
    public static func start() -> TraceParent {
        TraceParent(traceID: randomHex(bytes: 16), parentID: randomHex(bytes: 8), flags: 1)
    }

    /// The same trace, with a new span of this service as the parent of what comes next.
    public func child() -> TraceParent {
        TraceParent(traceID: traceID, parentID: Self.randomHex(bytes: 8), flags: flags)
    }

    /// `00-<trace id>-<parent id>-<flags>`.
    public var description: String {
        "00-\(traceID)-\(parentID)-\(flags < 16 ? "0" : "")\(String(flags, radix: 16))"
    }

    private static func isHex(_ text: Substring, count: Int) -> Bool {
        text.count == count && text.allSatisfy { $0.isHexDigit && !$0.isUppercase } && text.contains { $0 != "0" }
    }

    private static func randomHex(bytes: Int) -> String {
        var text = ""
        repeat {
            text = (0..<bytes).map { _ in
                let byte = UInt8.random(in: 0...255)
                return (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }.joined()
        } while !text.contains { $0 != "0" }
        return text
    }
}
