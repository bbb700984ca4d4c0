import Foundation

/// The field rules of the contract, shared by the HTTP validation and the event consumers.
///
/// Lengths count Unicode scalars (code points), not grapheme clusters: one letter with two
/// million combining marks is one "character" but two million scalars, and four megabytes.
/// Control characters (Unicode category Cc: NUL, the C0 and C1 controls, DEL) are refused in
/// every text field: PostgreSQL's C strings end at a NUL, so such a value could not be stored
/// as it was sent, and none belongs in a name or an address.
public enum FieldRules {
    /// The most Unicode scalars in a name.
    public static let maximumNameLength = 200
    /// The most Unicode scalars in an email address (RFC 5321's path limit).
    public static let maximumEmailLength = 254

    /// A customer's name: 1...200 Unicode scalars, not blank, no control characters.
    public static func name(_ value: String, field: String = "name") -> [InvalidParameter] {
        if value.unicodeScalars.count > maximumNameLength {
            return [InvalidParameter(name: field, reason: "must be at most \(maximumNameLength) characters (Unicode scalars)")]
        }
        if let control = controlCharacter(in: value) { return [control.invalid(field)] }
        // A visible ASCII character settles it without Foundation's character sets.
        let visible = value.utf8.contains { $0 > 0x20 && $0 < 0x7F }
        if !visible && value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return [InvalidParameter(name: field, reason: "must not be empty")]
        }
        return []
    }

    /// An email address: `local@domain.tld`, no spaces or control characters, at most 254 Unicode scalars.
    public static func email(_ value: String, field: String = "email") -> [InvalidParameter] {
        if value.unicodeScalars.count > maximumEmailLength {
            return [InvalidParameter(name: field, reason: "must be at most \(maximumEmailLength) characters (Unicode scalars)")]
        }
        if let control = controlCharacter(in: value) { return [control.invalid(field)] }
        let invalid = [InvalidParameter(name: field, reason: "must be a valid email address")]
        guard !value.unicodeScalars.contains(where: isWhitespace) else { return invalid }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return invalid }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else { return invalid }
        return []
    }

    /// The first control character in `value`, if any: category Cc is exactly U+0000–U+001F and
    /// U+007F–U+009F, so no Unicode property table is asked (this runs for every field of every
    /// request and event).
    static func controlCharacter(in value: String) -> ControlCharacter? {
        value.unicodeScalars.first { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }.map(ControlCharacter.init)
    }

    /// Unicode's White_Space, with ASCII answered without a table.
    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20: true
        case ..<0x80: false
        default: scalar.properties.isWhitespace
        }
    }

    /// A control character found in a text field.
    struct ControlCharacter {
        var scalar: Unicode.Scalar

        func invalid(_ field: String) -> InvalidParameter {
            let code = String(scalar.value, radix: 16, uppercase: true)
            return InvalidParameter(
                name: field, reason: "must not contain control characters (found U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code))")
        }
    }

    /// A record's version: 1 or more.
    public static func version(_ value: Int64, field: String = "version") -> [InvalidParameter] {
        value >= 1 ? [] : [InvalidParameter(name: field, reason: "must be 1 or more")]
    }

    /// A credit limit in cents: zero or more.
    public static func creditLimit(_ value: Int64, field: String = "creditLimit") -> [InvalidParameter] {
        value >= 0 ? [] : [InvalidParameter(name: field, reason: "must be zero or more (cents)")]
    }

    /// An order amount in cents: more than zero.
    public static func amount(_ value: Int64, field: String = "amount") -> [InvalidParameter] {
        value > 0 ? [] : [InvalidParameter(name: field, reason: "must be more than zero (cents)")]
    }

    /// A UUID in text form.
    public static func uuid(_ value: String, field: String) -> (UUID?, [InvalidParameter]) {
        if let id = UUID(uuidString: value) { return (id, []) }
        return (nil, [InvalidParameter(name: field, reason: "must be a UUID")])
    }
}
