import Contract
import Foundation
import Hummingbird

/// Checks the common query and path parameters, throwing a 400 that names the parameter.
public enum Parameters {
    /// A path id that must be a UUID.
    public static func id(_ text: String, name: String = "id") throws -> UUID {
        let (id, invalid) = FieldRules.uuid(text, field: name)
        guard let id else { throw Problem.validation(invalid) }
        return id
    }

    /// The `after` cursor of a list endpoint, when given.
    public static func cursor(_ text: String?) throws -> PageCursor? {
        guard let text else { return nil }
        guard let cursor = PageCursor(text) else {
            throw Problem.validation([InvalidParameter(name: "after", reason: "must be the `next` cursor of a previous page")])
        }
        return cursor
    }

    /// The integer query parameter `name` of `request`, nil when absent; a 400 naming it when it is not an integer.
    public static func integer(_ name: String, of request: Request) throws -> Int? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(text) else { throw Problem.validation([InvalidParameter(name: name, reason: "must be an integer")]) }
        return value
    }

    /// A page size in 1...1000 (default 50).
    public static func limit(_ value: Int?) throws -> Int {
        let limit = value ?? 50
        guard (1...1000).contains(limit) else {
            throw Problem.validation([InvalidParameter(name: "limit", reason: "must be in 1...1000")])
        }
        return limit
    }
}
