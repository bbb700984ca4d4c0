import Foundation
import OpenAPIRuntime

/// The contract's time format: RFC 3339, UTC, with milliseconds (`2026-11-21T18:00:00.123Z`).
public enum Timestamp {
    private static let withMilliseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    /// How the generated HTTP servers and clients read and write `date-time` fields.
    public static let transcoder = TimestampTranscoder()
    private static let withoutFraction = Date.ISO8601FormatStyle(timeZone: .gmt)

    /// Formats `date` in UTC, rounded to the nearest millisecond.
    ///
    /// Foundation's formatters truncate, and a `Date` read back from the database
    /// is a `Double` a hair below or above the stored millisecond: rounding keeps
    /// `…43.856` from coming out as `…43.855`.
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let wholeSeconds = fraction < 0 ? seconds - 1 : seconds
        let millis = fraction < 0 ? fraction + 1000 : fraction
        let base = withoutFraction.format(Date(timeIntervalSince1970: Double(wholeSeconds)))
        let digits = String(millis)
        return base.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Parses an RFC 3339 time with or without fractional seconds; nil when it is not one.
    ///
    /// Foundation rolls an out-of-range field over (`25:00` becomes `01:00` the next
    /// day); a UTC time whose fields do not survive the round trip is rejected.
    public static func parse(_ text: String) -> Date? {
        guard let date = (try? withMilliseconds.parse(text)) ?? (try? withoutFraction.parse(text)) else { return nil }
        if text.hasSuffix("Z"), withoutFraction.format(date).prefix(19) != text.prefix(19) { return nil }
        return date
    }
}

extension KeyedDecodingContainer {
    /// Decodes a contract timestamp, with a decoding error naming the key when it is malformed.
    func decodeTimestamp(forKey key: Key) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an RFC 3339 time: \(text)")
        }
        return date
    }

    /// Decodes a UUID in its canonical text form, with a decoding error naming the key when it is malformed.
    func decodeUUID(forKey key: Key) throws -> UUID {
        let text = try decode(String.self, forKey: key)
        guard let id = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a UUID: \(text)")
        }
        return id
    }
}

extension UUID {
    /// The lowercase canonical form used everywhere in the contract.
    public var lowercased: String { uuidString.lowercased() }
}

/// The contract's time format for swift-openapi-runtime (`Configuration(dateTranscoder:)`).
public struct TimestampTranscoder: DateTranscoder {
    /// Formats with ``Timestamp/format(_:)``.
    public func encode(_ date: Date) throws -> String {
        Timestamp.format(date)
    }

    /// Parses with ``Timestamp/parse(_:)``.
    public func decode(_ text: String) throws -> Date {
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an RFC 3339 time: \(text)"))
        }
        return date
    }
}
