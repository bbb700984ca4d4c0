import Contract
import Foundation

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

    /// A page size in 1...1000 (default 50).
    public static func limit(_ value: Int?) throws -> Int {
        let limit = value ?? 50
        guard (1...1000).contains(limit) else {
            throw Problem.validation([InvalidParameter(name: "limit", reason: "must be in 1...1000")])
        }
        return limit
    }
}
