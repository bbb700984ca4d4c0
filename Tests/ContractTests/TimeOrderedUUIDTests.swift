import Foundation
import Testing

@testable import Contract

/// The services' ids: version 7 UUIDs (RFC 9562), time first, random after.
@Suite("Time-ordered UUIDs")
struct TimeOrderedUUIDTests {
    @Test("version 7 and variant 0b10, the Unix milliseconds in the first 48 bits")
    func layout() {
        let date = Date(timeIntervalSince1970: 1_800_000_000.125)
        let uuid = TimeOrderedUUID.make(at: date)
        let text = uuid.uuidString.lowercased()
        #expect(text.hasPrefix(String(1_800_000_000_125, radix: 16).leftPadded(to: 12).inserting("-", at: 8)))
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 0b10)
    }

    @Test("ids made later sort later; 100,000 made at once are all different")
    func orderAndUniqueness() {
        let early = TimeOrderedUUID.make(at: Date(timeIntervalSince1970: 1_800_000_000))
        let late = TimeOrderedUUID.make(at: Date(timeIntervalSince1970: 1_800_000_000.002))
        #expect(early.uuidString.lowercased() < late.uuidString.lowercased())
        let ids = (0..<100_000).map { _ in TimeOrderedUUID.make() }
        #expect(Set(ids).count == ids.count)
        // The random bits differ from one id to the next (a buffer handed out once, refilled).
        let randomTails = Set(ids.map { $0.uuidString.suffix(12) })
        #expect(randomTails.count == ids.count)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
    fileprivate func inserting(_ character: Character, at offset: Int) -> String {
        var copy = self
        copy.insert(character, at: index(startIndex, offsetBy: offset))
        return copy
    }
}
