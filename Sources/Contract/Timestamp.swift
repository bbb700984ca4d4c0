import CivilDate
import Foundation

/// The contract's time format: RFC 3339, UTC, with milliseconds (`2026-11-21T18:00:00.123Z`).
///
/// Written and read by hand rather than with Foundation's ISO 8601 format styles: every
/// record crosses this code several times on its way (HTTP response, event, consumer, client),
/// and the format styles cost microseconds per call where arithmetic costs nanoseconds.
public enum Timestamp {
    /// How the generated HTTP servers and clients read and write `date-time` fields.
    public static let transcoder = TimestampTranscoder()

    /// Formats `date` in UTC, rounded to the nearest millisecond (years 0...9999, as RFC 3339 has them).
    ///
    /// Rounding, not truncating: a `Date` read back from the database is a `Double` a hair
    /// below or above the stored millisecond, and `…43.856` must not come out as `…43.855`.
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, millisecondOfDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = CivilDate.fromDays(days)
        let (second, millisecond) = millisecondOfDay.quotientAndRemainder(dividingBy: 1000)
        var text = ""
        text.reserveCapacity(24)
        text += pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(second / 3600, 2) + ":" + pad(second / 60 % 60, 2) + ":" + pad(second % 60, 2)
        text += "." + pad(millisecond, 3) + "Z"
        return text
    }

    /// Parses an RFC 3339 time (`2026-11-21T18:00:00.123Z`, `...18:00:00Z`, `...19:00:00+01:00`);
    /// nil when it is not one, including fields out of range (hour 25, February 30).
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            var reader = DigitReader(bytes: bytes)
            guard let year = reader.number(digits: 4), reader.skip("-"),
                let month = reader.number(digits: 2), reader.skip("-"),
                let day = reader.number(digits: 2), reader.skip("T") || reader.skip("t"),
                let hour = reader.number(digits: 2), reader.skip(":"),
                let minute = reader.number(digits: 2), reader.skip(":"),
                let second = reader.number(digits: 2)
            else { return nil }
            guard (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day),
                hour < 24, minute < 60, second < 60
            else { return nil }
            var fraction = 0.0
            if reader.skip(".") {
                var scale = 0.1
                var digits = 0
                while let digit = reader.digit() {
                    fraction += Double(digit) * scale
                    scale /= 10
                    digits += 1
                }
                guard digits > 0 else { return nil }
            }
            var offsetSeconds: Int64 = 0
            if reader.skip("Z") || reader.skip("z") {
                // UTC
            } else if let sign: Int64 = reader.skip("+") ? 1 : reader.skip("-") ? -1 : nil,
                let offsetHours = reader.number(digits: 2), reader.skip(":"),
                let offsetMinutes = reader.number(digits: 2), offsetHours < 24, offsetMinutes < 60
            {
                offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            } else {
                return nil
            }
            guard reader.atEnd else { return nil }
            let seconds = CivilDate.toDays(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
            return Date(timeIntervalSince1970: Double(seconds) + fraction)
        }
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Reads fixed-width ASCII fields.
private struct DigitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    var atEnd: Bool { position == bytes.count }

    mutating func digit() -> Int64? {
        guard position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else { return nil }
        defer { position += 1 }
        return Int64(bytes[position] - UInt8(ascii: "0"))
    }

    mutating func number(digits: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<digits {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
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

    /// Decodes a record's `version` and `updatedAt`; a record from before versions has neither,
    /// and is version 1, last changed when it was created.
    func decodeVersion(_ versionKey: Key, updatedAt updatedAtKey: Key, createdAt: Date) throws -> (version: Int64, updatedAt: Date) {
        let version = try decodeIfPresent(Int64.self, forKey: versionKey) ?? 1
        return (version, contains(updatedAtKey) ? try decodeTimestamp(forKey: updatedAtKey) : createdAt)
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

extension KeyedEncodingContainer {
    /// Encodes a record's `version` and `updatedAt` (RFC 3339 UTC with milliseconds).
    mutating func encodeVersion(_ version: Int64, _ versionKey: Key, updatedAt: Date, _ updatedAtKey: Key) throws {
        try encode(version, forKey: versionKey)
        try encode(Timestamp.format(updatedAt), forKey: updatedAtKey)
    }
}
