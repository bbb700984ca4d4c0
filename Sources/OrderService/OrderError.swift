import Foundation

/// Why OrderService refuses a change.
enum OrderError: Error, Sendable, Hashable {
    /// The customer is not in OrderService's replica (not created, not replicated yet, or deleted).
    case unknownCustomer(UUID)
    /// The order's status does not allow the change (cancelling a cancelled order).
    case invalidState(UUID, status: String)
}
