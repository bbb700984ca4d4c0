import Contract
import Foundation
import Testing

/// The contract's time format: RFC 3339, UTC, exactly three fraction digits, rounded.
@Suite("Timestamp")
struct TimestampTests {
    /// 2026-11-21T18:00:00Z.
    static let base: TimeInterval = 1_795_284_000

    @Test("formats in UTC with exactly three fraction digits")
    func format() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base)) == "2026-11-21T18:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 0.007)) == "2026-11-21T18:00:00.007Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 0.05)) == "2026-11-21T18:00:00.050Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test("a time 0.4 µs below a millisecond boundary prints the upper millisecond (rounds, does not truncate)")
    func roundsUp() {
        let justBelow = Date(timeIntervalSince1970: Self.base + 0.124 - 0.000_000_4)
        #expect(Timestamp.format(justBelow) == "2026-11-21T18:00:00.124Z")
        let justAbove = Date(timeIntervalSince1970: Self.base + 0.124 + 0.000_000_4)
        #expect(Timestamp.format(justAbove) == "2026-11-21T18:00:00.124Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 0.1234)) == "2026-11-21T18:00:00.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 0.1236)) == "2026-11-21T18:00:00.124Z")
    }

    @Test("rounding carries into the seconds, the minutes and the day")
    func roundingCarries() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 0.9997)) == "2026-11-21T18:00:01.000Z")
        // 2026-11-21T23:59:59.9997Z is the next day's midnight to the millisecond.
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 6 * 3600 - 0.0003)) == "2026-11-22T00:00:00.000Z")
    }

    @Test("times before 1970 round and borrow correctly")
    func beforeEpoch() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.0004)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.0006)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500Z")
    }

    @Test("every millisecond of a second survives parse then format unchanged")
    func everyMillisecondRoundTrips() throws {
        var mismatches: [String] = []
        for millisecond in 0..<1000 {
            let digits = String(millisecond)
            let text = "2026-11-21T18:00:59." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
            let date = try #require(Timestamp.parse(text), "\(text) does not parse")
            if Timestamp.format(date) != text { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "these change on a round trip: \(mismatches.prefix(10))")
    }

    @Test("parses with and without fractional seconds")
    func parse() throws {
        let withFraction = try #require(Timestamp.parse("2026-11-21T18:00:00.123Z"))
        #expect(abs(withFraction.timeIntervalSince1970 - (Self.base + 0.123)) < 0.000_5)
        let withoutFraction = try #require(Timestamp.parse("2026-11-21T18:00:00Z"))
        #expect(withoutFraction.timeIntervalSince1970 == Self.base)
    }

    @Test("text that is not an RFC 3339 time parses as nil", arguments: ["", "now", "2026-11-21", "21/11/2026 18:00", "2026-13-21T18:00:00Z"])
    func parseRejects(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("an out-of-range hour is rejected, not rolled over into the next day")
    func parseRejectsHour25() {
        #expect(Timestamp.parse("2026-11-21T25:00:00Z") == nil)
        #expect(Timestamp.parse("2026-02-30T10:00:00.000Z") == nil)
        #expect(Timestamp.parse("2026-11-21T23:59:59.999Z") != nil)
    }

    @Test("parses offsets, lowercase separators and long fractions as RFC 3339 allows")
    func parseRFC3339Variants() throws {
        let utc = try #require(Timestamp.parse("2026-11-21T18:00:00.123Z"))
        #expect(Timestamp.parse("2026-11-21T19:00:00.123+01:00") == utc)
        #expect(Timestamp.parse("2026-11-21T12:30:00.123-05:30") == utc)
        #expect(Timestamp.parse("2026-11-21t18:00:00.123z") == utc)
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-11-21T18:00:00.123456789Z"))) == "2026-11-21T18:00:00.123Z")
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-11-21T18:00:00.5Z"))) == "2026-11-21T18:00:00.500Z")
    }

    @Test(
        "malformed fields are rejected",
        arguments: [
            "2026-11-21T18:00:00.Z", "2026-11-21T18:00:00.123", "2026-11-21T18:00:00.123Z ", " 2026-11-21T18:00:00Z",
            "2026-11-21T18:00:60Z", "2026-11-21T18:60:00Z", "2026-00-21T18:00:00Z", "2026-11-00T18:00:00Z",
            "2026-11-21T18:00:00+1:00", "2026-11-21T18:00:00+01:60", "2026-11-21 18:00:00Z", "26-11-21T18:00:00Z",
            "2025-02-29T00:00:00Z",
        ])
    func parseRejectsMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test(
        "leap days and distant dates come back as they went",
        arguments: [
            "2024-02-29T23:59:59.999Z", "2000-02-29T00:00:00.000Z", "1900-03-01T00:00:00.000Z", "0001-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z",
        ])
    func calendarRoundTrips(text: String) throws {
        #expect(Timestamp.format(try #require(Timestamp.parse(text))) == text)
    }

    @Test("agrees with Foundation's ISO 8601 formatting over many instants")
    func agreesWithFoundation() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // 0.4 ms past a millisecond, from 1900 to 2200: Foundation truncates and we round to the same text.
            let milliseconds = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)
            let date = Date(timeIntervalSince1970: (Double(milliseconds) + 0.4) / 1000)
            #expect(Timestamp.format(date) == style.format(date), "\(milliseconds)")
            let parsed = Timestamp.parse(style.format(date)).map { ($0.timeIntervalSince1970 * 1000).rounded() }
            #expect(parsed == Double(milliseconds))
        }
    }

    @Test("the OpenAPI transcoder uses the same format and rejects garbage")
    func transcoder() throws {
        let date = Date(timeIntervalSince1970: Self.base + 0.124 - 0.000_000_4)
        #expect(try Timestamp.transcoder.encode(date) == "2026-11-21T18:00:00.124Z")
        let decoded = try Timestamp.transcoder.decode("2026-11-21T18:00:00.124Z")
        #expect(Timestamp.format(decoded) == "2026-11-21T18:00:00.124Z")
        #expect(throws: DecodingError.self) { try Timestamp.transcoder.decode("not a time") }
    }

    @Test("UUIDs are written in lowercase")
    func lowercaseUUID() throws {
        let id = try #require(UUID(uuidString: "ABCDEF01-2345-4789-ABCD-EF0123456789"))
        #expect(id.lowercased == "abcdef01-2345-4789-abcd-ef0123456789")
    }
}
