/// A `DecodingError` said in one line that names the field (`data.amount: expected Int64`).
public struct DecodingFailure: CustomStringConvertible, Sendable {
    /// The dotted path of the field (empty for the top level).
    public var field: String
    /// What was wrong with it.
    public var reason: String

    /// Describes `error`, or just its text when it is not a `DecodingError`.
    public init(_ error: any Error) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context):
            field = path(context.codingPath + [key])
            reason = "is required"
        case .typeMismatch(let type, let context):
            field = path(context.codingPath)
            reason = "must be \(Self.name(of: type))"
        case .valueNotFound(let type, let context):
            field = path(context.codingPath)
            reason = "must be \(Self.name(of: type)), not null"
        case .dataCorrupted(let context):
            field = path(context.codingPath)
            reason = context.debugDescription
        case nil:
            field = ""
            reason = "\(error)"
        @unknown default:
            field = ""
            reason = "\(error)"
        }
    }

    /// `field: reason`, or the reason alone at the top level.
    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int64.Type, is Int.Type, is Int32.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default: "\(type)"
        }
    }
}
