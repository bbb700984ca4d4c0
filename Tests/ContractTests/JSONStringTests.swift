import Foundation
import Testing

@testable import Contract

/// The JSON string literals the hot path writes itself.
@Suite("JSON strings")
struct JSONStringTests {
    @Test(
        "any text reads back as itself",
        arguments: ["", "plain", "quote \" and \\ backslash", "a/b", "tab\tnew\nline\r", "\u{0}\u{1f}\u{7f}", "Zoë 🦆 ünïcödé"])
    func roundTrip(text: String) throws {
        let json = JSONString.quoted(text)
        let decoded = try JSONDecoder().decode(String.self, from: Data(json.utf8))
        #expect(decoded == text)
    }

    @Test("an object of string members is valid JSON, in the order given")
    func object() throws {
        let json = JSONString.object([(key: "b", value: "1"), (key: "a\"", value: "x\ny")])
        #expect(json == #"{"b":"1","a\"":"x\ny"}"#)
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        #expect(decoded == ["b": "1", "a\"": "x\ny"])
    }
}
