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
        // On the header's bytes: it is ASCII when valid, and this runs for every request and event.
        var bytes = Substring(header).utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        let fields = bytes.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0].count == 2, let version = Self.hexValue(fields[0]), version != 0xff,
            version != 0 || fields.count == 4,
            Self.isHex(fields[1], count: 32), Self.isHex(fields[2], count: 16), fields[3].count == 2, let flags = Self.hexValue(fields[3])
        else { return nil }
        traceID = String(decoding: fields[1], as: UTF8.self)
        parentID = String(decoding: fields[2], as: UTF8.self)
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

    /// Whether `text` is `count` lowercase hex digits, not all zero.
    private static func isHex(_ text: Substring.UTF8View.SubSequence, count: Int) -> Bool {
        text.count == count && text.allSatisfy { digit($0) != nil } && text.contains { $0 != UInt8(ascii: "0") }
    }

    /// The value of two lowercase or uppercase hex digits.
    private static func hexValue(_ text: Substring.UTF8View.SubSequence) -> UInt8? {
        guard text.count == 2, let high = digit(text.first!, uppercase: true), let low = digit(text.last!, uppercase: true) else { return nil }
        return high << 4 | low
    }

    /// A hex digit's value: lowercase only, unless `uppercase`.
    private static func digit(_ byte: UInt8, uppercase: Bool = false) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F") where uppercase: byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `bytes` random bytes (from the process's pool of kernel randomness) as lowercase hex, not all zero.
    private static func randomHex(bytes count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        while true {
            let random = RandomPool.bytes(count)
            guard random.contains(where: { $0 != 0 }) else { continue }
            return String(unsafeUninitializedCapacity: count * 2) { text in
                for (index, byte) in random.enumerated() {
                    text[2 * index] = digits[Int(byte >> 4)]
                    text[2 * index + 1] = digits[Int(byte & 0x0f)]
                }
                return count * 2
            }
        }
    }
}
