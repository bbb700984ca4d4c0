import Contract
import Foundation
import ServiceSupport
import Testing

/// The opaque `after` cursor of the list endpoints.
@Suite("Page cursor")
struct PageCursorTests {
    @Test("a cursor survives a round trip through its text", arguments: [0.0, 0.001, 1_795_284_000.123, 1_795_284_000.9995, 4_102_444_799.999])
    func roundTrip(seconds: Double) throws {
        let id = UUID()
        let cursor = PageCursor(createdAt: Date(timeIntervalSince1970: seconds), id: id)
        let decoded = try #require(PageCursor(cursor.text))
        #expect(decoded.id == id)
        #expect(Timestamp.format(decoded.createdAt) == Timestamp.format(cursor.createdAt))
        #expect(decoded.text == cursor.text)
    }

    @Test("the text is URL-safe base64 without padding")
    func urlSafe() {
        for _ in 0..<200 {
            let text = PageCursor(createdAt: Date(timeIntervalSince1970: Double.random(in: 0...4_000_000_000)), id: UUID()).text
            #expect(!text.isEmpty)
            let unsafe = text.filter { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }
            #expect(unsafe.isEmpty, "\(text)")
        }
    }

    @Test(
        "anything but a cursor is a 400 naming `after`",
        arguments: [
            "", "garbage!", "%%%", "bm90IGEgY3Vyc29y",  // "not a cursor"
            Data("2026-11-21T18:00:00.123Z".utf8).base64EncodedString(),
            Data("2026-11-21T18:00:00.123Z|not-a-uuid".utf8).base64EncodedString(),
            Data("yesterday|a1b2c3d4-e5f6-4711-8899-aabbccddeeff".utf8).base64EncodedString(),
            Data("2026-11-21T18:00:00.123Z|a1b2c3d4-e5f6-4711-8899-aabbccddeeff|extra".utf8).base64EncodedString(),
        ]
    )
    func garbage(text: String) throws {
        #expect(PageCursor(text) == nil)
        let problem = try #require(throws: Problem.self) { try Parameters.cursor(text) }
        #expect(problem.status == 400)
        #expect(problem.code == "validation")
        #expect(problem.invalidParams.map(\.name) == ["after"])
    }

    @Test("a hand-made cursor in the documented format is accepted")
    func handMade() throws {
        let text = Data("2026-11-21T18:00:00.123Z|A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF".utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "")
        let parsed = try Parameters.cursor(text)
        let cursor = try #require(parsed)
        #expect(cursor.id.lowercased == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")
        #expect(Timestamp.format(cursor.createdAt) == "2026-11-21T18:00:00.123Z")
    }

    @Test("path ids and page sizes are checked with a 400 naming the parameter")
    func parameters() throws {
        let id = UUID()
        #expect(try Parameters.id(id.lowercased) == id)
        let badID = try #require(throws: Problem.self) { try Parameters.id("42", name: "customerId") }
        #expect(badID.status == 400)
        #expect(badID.invalidParams.map(\.name) == ["customerId"])

        #expect(try Parameters.limit(nil) == 50)
        #expect(try Parameters.limit(1) == 1)
        #expect(try Parameters.limit(1000) == 1000)
        for bad in [0, -1, 1001] {
            let problem = try #require(throws: Problem.self) { try Parameters.limit(bad) }
            #expect(problem.invalidParams.map(\.name) == ["limit"])
        }
    }

    @Test("a page holds `limit` items and a cursor after the last only when more were fetched")
    func page() {
        let keys = (0..<4).map { PageCursor(createdAt: Date(timeIntervalSince1970: Double($0)), id: UUID()) }
        let full = Page(fetched: keys, limit: 3) { $0 }
        #expect(full.items == Array(keys.prefix(3)))
        #expect(full.next == keys[2])
        let last = Page(fetched: Array(keys.prefix(3)), limit: 3) { $0 }
        #expect(last.items.count == 3)
        #expect(last.next == nil)
    }
}
