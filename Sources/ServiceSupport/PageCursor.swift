import Contract
import Foundation

/// The opaque `after` cursor of a list endpoint: the sort key (`created_at`, `id`)
/// of the last item of the previous page, base64url-encoded.
public struct PageCursor: Sendable, Hashable {
    /// The last item's creation time.
    public var createdAt: Date
    /// The last item's id.
    public var id: UUID

    /// Creates a cursor after the item with these keys.
    public init(createdAt: Date, id: UUID) {
        self.createdAt = createdAt
        self.id = id
    }

    /// Decodes a cursor a previous page returned; throws a 400 naming `after` when it is not one.
    public init(_ text: String) throws {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
              let parts = String(data: data, encoding: .utf8)?.split(separator: "|"), parts.count == 2,
              let createdAt = Timestamp.parse(String(parts[0])), let id = UUID(uuidString: String(parts[1]))
        else {
            throw Problem.validation([InvalidParameter(name: "after", reason: "must be the `next` cursor of a previous page")])
        }
        self.init(createdAt: createdAt, id: id)
    }

    /// The cursor's text.
    public var text: String {
        Data("\(Timestamp.format(createdAt))|\(id.lowercased)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Checks the common query and path parameters, throwing a 400 that names the parameter.
public enum Parameters {
    /// A path id that must be a UUID.
    public static func id(_ text: String, name: String = "id") throws -> UUID {
        let (id, invalid) = FieldRules.uuid(text, field: name)
        guard let id else { throw Problem.validation(invalid) }
        return id
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
