import Foundation

/// A customer to create, checked against the contract's field rules.
struct NewCustomer: Sendable, Hashable {
    var name: String
    var email: String
    var creditLimit: Int64
}
