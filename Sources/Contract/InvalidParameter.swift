import Foundation

/// One reason why a request or an event's data is invalid, naming the field (RFC 9457 `invalid-params`).
public struct InvalidParameter: Hashable, Sendable, CustomStringConvertible {
    /// The field's name as it appears in JSON (`email`, `data.amount`).
    public var name: String
    /// Why it is invalid, in words a client can show.
    public var reason: String

    /// Creates a reason for `name`.
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    /// `name: reason`.
    public var description: String { "\(name): \(reason)" }
}

extension Array where Element == InvalidParameter {
    /// The reasons joined into one line, for a problem's `detail` or a dead-letter header.
    public var summary: String { map(\.description).joined(separator: "; ") }
}
