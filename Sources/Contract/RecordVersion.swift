import Foundation

/// One record's place in a replica comparison (docs/design.md#repair): its id, its version,
/// whether it is deleted (a tombstone, whose version it then is), and a hash of its content.
/// Encoded as an item of `RecordVersionPage` (`GET /replication/records`), the id in lowercase.
public struct RecordVersion: Codable, Hashable, Sendable {
    /// The record's id.
    public var id: UUID
    /// Its version.
    public var version: Int64
    /// Whether the record is deleted.
    public var deleted: Bool
    /// 16 lowercase hex digits: the first 8 bytes of the md5 of the record's replicated columns,
    /// computed by the database the same way at the source and in the replica;
    /// ``tombstoneContent`` for a deleted record.
    public var content: String

    /// The content of every tombstone: a deleted record has no columns to compare.
    public static let tombstoneContent = "0000000000000000"

    /// Creates a record's entry; a tombstone's `content` is ``tombstoneContent`` when left out.
    public init(id: UUID, version: Int64, deleted: Bool, content: String? = nil) {
        (self.id, self.version, self.deleted) = (id, version, deleted)
        self.content = content ?? Self.tombstoneContent
    }

    enum CodingKeys: String, CodingKey {
        case id, version, deleted, content
    }

    /// Encodes the id in lowercase, as every id of the contract.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(content, forKey: .content)
    }
}
