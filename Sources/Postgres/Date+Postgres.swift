import CivilDate
import Foundation

/// `Date` travels as `timestamptz`: ISO 8601 in UTC with microseconds on the way in
/// (`2026-11-21T18:00:00.123456Z`), PostgreSQL's ISO output with any offset on the way out
/// (`2026-11-21 19:00:00.123456+01`, the default `DateStyle`). `infinity` and `-infinity` decode
/// to `distantFuture` and `distantPast`. Both directions are hand-written because they run once
/// per bound value and per decoded cell, and Foundation's formatters stop at milliseconds.
extension Date: PostgresCodable {
    public var postgresText: String {
        // Split the reference-date interval, not the 1970 one: it is smaller, so its Double keeps
        // sub-microsecond precision for today's dates.
        let interval = self.timeIntervalSinceReferenceDate
        guard interval.isFinite, abs(interval) < 1e14 else {
            return interval < 0 ? "-infinity" : "infinity"
        }
        var seconds = interval.rounded(.down)
        var micros = ((interval - seconds) * 1_000_000).rounded()
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        let total = Int64(seconds) + Self.referenceDateEpochSeconds
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondOfDay = total - days * 86_400
        let (year, month, day) = CivilDate.fromDays(days)
        let bc = year <= 0
        return String(unsafeUninitializedCapacity: 40) { buffer in
            var index = 0
            func put(_ value: Int64, digits: Int) {
                var divisor: Int64 = 1
                for _ in 1..<digits { divisor *= 10 }
                var value = value
                while value / divisor >= 10 { divisor *= 10 }
                while divisor > 0 {
                    buffer[index] = UInt8(truncatingIfNeeded: 48 + value / divisor)
                    value %= divisor
                    divisor /= 10
                    index += 1
                }
            }
            func put(_ byte: Character) {
                buffer[index] = byte.asciiValue ?? 63
                index += 1
            }
            put(bc ? 1 - year : year, digits: 4)
            put("-"); put(month, digits: 2); put("-"); put(day, digits: 2)
            put("T"); put(secondOfDay / 3600, digits: 2)
            put(":"); put(secondOfDay / 60 % 60, digits: 2)
            put(":"); put(secondOfDay % 60, digits: 2)
            put("."); put(Int64(micros), digits: 6)
            put("Z")
            if bc {
                put(" "); put("B"); put("C")
            }
            return index
        }
    }

    public init(postgresText: String) throws {
        switch postgresText {
        case "infinity":
            self = .distantFuture
            return
        case "-infinity":
            self = .distantPast
            return
        default:
            break
        }
        var text = postgresText
        let parsed = text.withUTF8 { bytes -> Double? in
            var scanner = TimestampScanner(bytes: bytes)
            return scanner.parse()
        }
        guard let parsed else { throw decodingError(Date.self) }
        self = Date(timeIntervalSinceReferenceDate: parsed)
    }

    /// Seconds from 1970-01-01 to 2001-01-01, Foundation's reference date.
    static let referenceDateEpochSeconds: Int64 = 978_307_200
}

/// Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM[:SS]]][ BC]` into seconds since
/// Foundation's reference date (2001-01-01 UTC).
private struct TimestampScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parse() -> Double? {
        guard var year = self.number(minDigits: 4, maxDigits: 9), self.expect(UInt8(ascii: "-")),
            let month = self.number(minDigits: 2, maxDigits: 2), self.expect(UInt8(ascii: "-")),
            let day = self.number(minDigits: 2, maxDigits: 2),
            self.expect(UInt8(ascii: " ")) || self.expect(UInt8(ascii: "T")),
            let hour = self.number(minDigits: 2, maxDigits: 2), self.expect(UInt8(ascii: ":")),
            let minute = self.number(minDigits: 2, maxDigits: 2), self.expect(UInt8(ascii: ":")),
            let second = self.number(minDigits: 2, maxDigits: 2),
            (1...12).contains(month), (1...31).contains(day), hour <= 24, minute < 60, second < 61
        else {
            return nil
        }
        var fraction = 0.0
        if self.expect(UInt8(ascii: ".")) {
            var numerator: Int64 = 0
            var denominator: Int64 = 1
            while let digit = self.digit() {
                if denominator < 1_000_000_000 {
                    numerator = numerator * 10 + digit
                    denominator *= 10
                }
            }
            guard denominator > 1 else { return nil }
            fraction = Double(numerator) / Double(denominator)
        }
        var offset: Int64 = 0
        if self.expect(UInt8(ascii: "Z")) {
            offset = 0
        } else if self.peek(UInt8(ascii: "+")) || self.peek(UInt8(ascii: "-")) {
            let sign: Int64 = self.expect(UInt8(ascii: "-")) ? -1 : 1
            _ = self.expect(UInt8(ascii: "+"))
            guard let offsetHours = self.number(minDigits: 2, maxDigits: 2) else { return nil }
            var offsetSeconds = offsetHours * 3600
            if self.expect(UInt8(ascii: ":")) {
                guard let offsetMinutes = self.number(minDigits: 2, maxDigits: 2) else { return nil }
                offsetSeconds += offsetMinutes * 60
                if self.expect(UInt8(ascii: ":")) {
                    guard let extraSeconds = self.number(minDigits: 2, maxDigits: 2) else { return nil }
                    offsetSeconds += extraSeconds
                }
            }
            offset = sign * offsetSeconds
        }
        if self.expect(UInt8(ascii: " ")) {
            guard self.expect(UInt8(ascii: "B")), self.expect(UInt8(ascii: "C")) else { return nil }
            year = 1 - year
        }
        guard self.index == self.bytes.count else { return nil }
        let days = CivilDate.toDays(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Double(seconds - Date.referenceDateEpochSeconds) + fraction
    }

    private func peek(_ byte: UInt8) -> Bool {
        self.index < self.bytes.count && self.bytes[self.index] == byte
    }

    private mutating func expect(_ byte: UInt8) -> Bool {
        guard self.peek(byte) else { return false }
        self.index += 1
        return true
    }

    private mutating func digit() -> Int64? {
        guard self.index < self.bytes.count else { return nil }
        let byte = self.bytes[self.index]
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        self.index += 1
        return Int64(byte - UInt8(ascii: "0"))
    }

    private mutating func number(minDigits: Int, maxDigits: Int) -> Int64? {
        var value: Int64 = 0
        var count = 0
        while count < maxDigits, let digit = self.digit() {
            value = value * 10 + digit
            count += 1
        }
        return count >= minDigits ? value : nil
    }
}
