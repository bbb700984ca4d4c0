import Foundation

/// Why CustomerService refuses a change.
enum CustomerError: Error, Sendable, Hashable {
    /// Another customer has this email (compared case-insensitively).
    case emailTaken(String)
}
