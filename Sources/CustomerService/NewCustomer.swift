import Contract
import Foundation

/// A customer to create, checked against the contract's field rules.
struct NewCustomer: Sendable, Hashable {
    var name: String
    var email: String
    var creditLimit: Int64
}

/// A change to a customer (a JSON merge patch, docs/design.md#versions-and-tombstones): the fields it sets; nil leaves a
/// field as it is. Each field it sets is checked with the rules of a new customer.
struct CustomerPatch: Sendable, Hashable {
    var name: String?
    var email: String?
    var creditLimit: Int64?

    /// The reasons the patch is invalid (empty when valid): it must set a field, and every field it sets must be valid.
    var invalid: [InvalidParameter] {
        if name == nil && email == nil && creditLimit == nil {
            return [InvalidParameter(name: "body", reason: "must set at least one of name, email, creditLimit")]
        }
        return (name.map { FieldRules.name($0) } ?? []) + (email.map { FieldRules.email($0) } ?? [])
            + (creditLimit.map { FieldRules.creditLimit($0) } ?? [])
    }

    /// `customer` with the patch's fields set (its version and times unchanged).
    func applied(to customer: CustomerRecord) -> CustomerRecord {
        var changed = customer
        changed.name = name ?? customer.name
        changed.email = email ?? customer.email
        changed.creditLimit = creditLimit ?? customer.creditLimit
        return changed
    }

    /// A canonical form, for an Idempotency-Key's fingerprint (an unset field differs from any value).
    var fingerprint: String {
        [name.map { "n:" + $0 } ?? "-", email.map { "e:" + $0 } ?? "-", creditLimit.map { "c:\($0)" } ?? "-"].joined(separator: "\u{1f}")
    }
}
