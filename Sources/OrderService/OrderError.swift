import Foundation

/// Why OrderService refuses a change.
enum OrderError: Error, Sendable, Hashable {
    /// The customer is not in OrderService's replica (not created, or not replicated yet).
    case unknownCustomer(UUID)
}
