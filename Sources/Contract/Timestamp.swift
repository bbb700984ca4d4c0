import Foundation

/// The contract's time format: RFC 3339, UTC, with milliseconds (`2026-11-21T18:00:00.123Z`).
public enum Timestamp {
    private static let withMilliseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFraction = Date.ISO8601FormatStyle(timeZone: .gmt)

    /// Formats `date` with milliseconds in UTC.
    public static func format(_ date: Date) -> String {
        withMilliseconds.format(date)
    }

    /// Parses an RFC 3339 time with or without fractional seconds; nil when it is not one.
    public static func parse(_ text: String) -> Date? {
        (try? withMilliseconds.parse(text)) ?? (try? withoutFraction.parse(text))
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
