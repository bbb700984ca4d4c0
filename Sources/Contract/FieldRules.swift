import Foundation

/// The field rules of the contract, shared by the HTTP validation and the event consumers.
public enum FieldRules {
    /// A customer's name: 1...200 characters after trimming.
    public static func name(_ value: String, field: String = "name") -> [InvalidParameter] {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [InvalidParameter(name: field, reason: "must not be empty")] }
        if trimmed.count > 200 { return [InvalidParameter(name: field, reason: "must be at most 200 characters")] }
        return []
    }

    /// An email address: `local@domain.tld`, no spaces, at most 320 characters.
    public static func email(_ value: String, field: String = "email") -> [InvalidParameter] {
        let invalid = [InvalidParameter(name: field, reason: "must be a valid email address")]
        guard value.count <= 320, !value.contains(where: \.isWhitespace) else { return invalid }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return invalid }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else { return invalid }
        return []
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
