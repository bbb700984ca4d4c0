import Foundation

/// An order to create, checked against the contract's field rules.
struct NewOrder: Sendable, Hashable {
    var customerId: UUID
    var amount: Int64
}
