import Contract
import ServiceClient

extension Components.Schemas.Customer {
    /// The customer for people: a heading line, then one indented line a field.
    func text(heading: String = "customer") -> [String] {
        [
            "\(heading) \(id)",
            "  name          \(name)",
            "  email         \(email)",
            "  credit limit  \(money(creditLimit))",
            "  created at    \(Timestamp.format(createdAt))",
            "  version       \(version), updated at \(Timestamp.format(updatedAt))",
        ]
    }
}

extension Components.Schemas.Order {
    /// The order for people: a heading line, then one indented line a field.
    func text(heading: String = "order") -> [String] {
        [
            "\(heading) \(id)",
            "  customer    \(customerId)",
            "  amount      \(money(amount))",
            "  status      \(status.rawValue)",
            "  created at  \(Timestamp.format(createdAt))",
            "  version     \(version), updated at \(Timestamp.format(updatedAt))",
        ]
    }
}
