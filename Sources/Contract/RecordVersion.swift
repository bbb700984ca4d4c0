import Foundation

/// One record's place in a replica comparison (docs/design.md#repair): its id, its version, and
/// whether it is deleted (a tombstone, whose version it then is). Encoded as an item of
/// `RecordVersionPage` (`GET /replication/records`), the id in lowercase.
public struct RecordVersion: Codable, Hashable, Sendable {
    /// The record's id.
    public var id: UUID
    /// Its version.
    public var version: Int64
    /// Whether the record is deleted.
    public var deleted: Bool

    /// Creates a triple.
    public init(id: UUID, version: Int64, deleted: Bool) {
        (self.id, self.version, self.deleted) = (id, version, deleted)
    }

    enum CodingKeys: String, CodingKey {
        case id, version, deleted
    }

    /// Encodes the id in lowercase, as every id of the contract.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(deleted, forKey: .deleted)
    }
}
