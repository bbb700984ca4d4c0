import Contract
import Foundation
import Testing

/// The field rules shared by the HTTP validation and the event consumers.
@Suite("Field rules")
struct FieldRulesTests {
    @Test(
        "a name of 1...200 characters after trimming is valid",
        arguments: ["A", "Ada Lovelace", "  Ada  ", String(repeating: "x", count: 200), "Zoë Ñúñez 山田"])
    func validName(name: String) {
        #expect(FieldRules.name(name).isEmpty)
    }

    @Test("an empty or blank name is invalid", arguments: ["", " ", "   "])
    func emptyName(name: String) {
        #expect(FieldRules.name(name) == [InvalidParameter(name: "name", reason: "must not be empty")])
    }

    @Test("a name longer than 200 Unicode scalars is invalid, and the field name is the caller's")
    func longName() {
        let invalid = FieldRules.name(String(repeating: "x", count: 201), field: "data.name")
        #expect(invalid == [InvalidParameter(name: "data.name", reason: "must be at most 200 characters (Unicode scalars)")])
        // Scalars, not bytes: 200 four-byte scalars are fine.
        #expect(FieldRules.name(String(repeating: "😀", count: 200)).isEmpty)
    }

    @Test("one letter with two million combining marks is one grapheme but far too long (found by a new user)")
    func combiningMarks() {
        let name = "a" + String(repeating: "\u{0301}", count: 2_000_000)
        #expect(name.count == 1)
        #expect(FieldRules.name(name).map(\.name) == ["name"])
        #expect(FieldRules.name("a" + String(repeating: "\u{0301}", count: 199)).isEmpty)
    }

    @Test(
        "a control character (NUL included) in a name or an email is refused, naming the field and the character",
        arguments: ["x\u{0000}y", "tab\tin", "line\nbreak", "bell\u{0007}", "del\u{007F}", "c1\u{0085}"])
    func controlCharacters(text: String) {
        let name = FieldRules.name(text)
        #expect(name.map(\.name) == ["name"])
        #expect(name.first?.reason.hasPrefix("must not contain control characters (found U+") == true, "\(name)")
        #expect(FieldRules.email("a\(text)@example.org").map(\.name) == ["email"])
        #expect(FieldRules.name(text, field: "data.name").map(\.name) == ["data.name"], "the consumer's rule is the same")
    }

    @Test("the control-character rule is Unicode's category Cc, for every scalar of the first planes")
    func controlIsCategoryCc() {
        for value in UInt32(0)...0x2FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let refused = !FieldRules.name("a\(Character(scalar))b").filter { $0.reason.hasPrefix("must not contain control") }.isEmpty
            if refused != (scalar.properties.generalCategory == .control) {
                Issue.record("U+\(String(value, radix: 16)): refused \(refused)")
                return
            }
        }
    }

    @Test("blank in any script is empty; whitespace in any script makes an email invalid", arguments: ["\u{00A0}", "\u{3000}", " \u{2003} "])
    func unicodeWhitespace(blank: String) {
        #expect(FieldRules.name(blank) == [InvalidParameter(name: "name", reason: "must not be empty")])
        #expect(FieldRules.email("ada\(blank)x@example.org").map(\.name) == ["email"])
    }

    @Test("well-formed email addresses are valid", arguments: ["ada@example.org", "a.b+c@mail.example.co.uk", "x@y.z"])
    func validEmail(email: String) {
        #expect(FieldRules.email(email).isEmpty)
    }

    @Test(
        "malformed email addresses are invalid",
        arguments: [
            "", "ada", "ada@", "@example.org", "ada@example", "ada@@example.org", "ada@example..org",
            "ada@.example.org", "ada@example.org.", "ada lovelace@example.org", "ada@exa mple.org", " ada@example.org",
            "a@b@c.d",
        ]
    )
    func invalidEmail(email: String) {
        #expect(FieldRules.email(email) == [InvalidParameter(name: "email", reason: "must be a valid email address")])
    }

    @Test("an email longer than 254 Unicode scalars is invalid")
    func longEmail() {
        let local = String(repeating: "a", count: 64)
        let domain = String(repeating: "b", count: 186) + ".org"  // 64 + 1 + 190 = 255
        #expect(!FieldRules.email(local + "@" + domain).isEmpty)
        #expect(FieldRules.email(local + "@" + domain.dropFirst()).isEmpty)
    }

    @Test("a credit limit must be zero or more")
    func creditLimit() {
        #expect(FieldRules.creditLimit(0).isEmpty)
        #expect(FieldRules.creditLimit(Int64.max).isEmpty)
        #expect(FieldRules.creditLimit(-1) == [InvalidParameter(name: "creditLimit", reason: "must be zero or more (cents)")])
        #expect(FieldRules.creditLimit(Int64.min).count == 1)
    }

    @Test("an amount must be more than zero")
    func amount() {
        #expect(FieldRules.amount(1).isEmpty)
        #expect(FieldRules.amount(Int64.max).isEmpty)
        #expect(FieldRules.amount(0) == [InvalidParameter(name: "amount", reason: "must be more than zero (cents)")])
        #expect(FieldRules.amount(-5, field: "data.amount").map(\.name) == ["data.amount"])
    }

    @Test("a UUID field parses or names the field")
    func uuid() {
        let (id, none) = FieldRules.uuid("a1b2c3d4-e5f6-4711-8899-aabbccddeeff", field: "customerId")
        #expect(id?.lowercased == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")
        #expect(none.isEmpty)
        let (missing, invalid) = FieldRules.uuid("42", field: "customerId")
        #expect(missing == nil)
        #expect(invalid == [InvalidParameter(name: "customerId", reason: "must be a UUID")])
    }

    @Test("a customer record reports every broken rule with the prefix")
    func customerValidate() {
        let valid = CustomerRecord(id: UUID(), name: "Ada", email: "ada@example.org", creditLimit: 0, createdAt: Date())
        #expect(valid.validate().isEmpty)
        let invalid = CustomerRecord(id: UUID(), name: " ", email: "nope", creditLimit: -1, createdAt: Date())
        #expect(invalid.validate(prefix: "data.").map(\.name) == ["data.name", "data.email", "data.creditLimit"])
    }

    @Test("an order record needs a positive amount and a known status")
    func orderValidate() {
        let valid = OrderRecord(id: UUID(), customerId: UUID(), amount: 1, createdAt: Date())
        #expect(valid.validate().isEmpty)
        let invalid = OrderRecord(id: UUID(), customerId: UUID(), amount: 0, status: "shipped", createdAt: Date())
        #expect(invalid.validate(prefix: "data.").map(\.name) == ["data.amount", "data.status"])
    }

    @Test("reasons read as `name: reason`, joined with semicolons")
    func summary() {
        let invalid = [InvalidParameter(name: "a", reason: "x"), InvalidParameter(name: "b", reason: "y")]
        #expect(invalid.summary == "a: x; b: y")
        #expect([InvalidParameter]().summary == "")
    }
}
