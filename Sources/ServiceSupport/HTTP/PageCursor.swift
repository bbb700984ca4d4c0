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

    /// Decodes a cursor a previous page returned; nil when `text` is not one.
    public init?(_ text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
            let parts = String(data: data, encoding: .utf8)?.split(separator: "|"), parts.count == 2,
            let createdAt = Timestamp.parse(String(parts[0])), let id = UUID(uuidString: String(parts[1]))
        else { return nil }
        self.init(createdAt: createdAt, id: id)
    }

    /// The cursor's text.
    public var text: String {
        Data("\(Timestamp.format(createdAt))|\(id.lowercased)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
