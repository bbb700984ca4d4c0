import Foundation

/// What is left of a deleted record (docs/design.md#versions-and-tombstones): its id, its last version (one more than the
/// version it had before) and when it was deleted. The source keeps it, and `customer.deleted`
/// carries it in `data`, so a replica can hold it too: an older event that arrives late can then
/// never bring the record back.
public struct Tombstone: Codable, Hashable, Identifiable, Sendable {
    /// The deleted record's id.
    public var id: UUID
    /// The version of the deletion.
    public var version: Int64
    /// When the deletion committed at the source, to the millisecond.
    public var deletedAt: Date

    /// Creates a tombstone.
    public init(id: UUID, version: Int64, deletedAt: Date) {
        (self.id, self.version, self.deletedAt) = (id, version, deletedAt)
    }

    /// The reasons this tombstone breaks the contract's rules (empty when valid), named `prefix` + field.
    public func validate(prefix: String = "") -> [InvalidParameter] {
        FieldRules.version(version, field: prefix + "version")
    }

    enum CodingKeys: String, CodingKey {
        case id, version, deletedAt
    }

    /// Decodes the contract's JSON: lowercase or uppercase UUID, RFC 3339 time.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeUUID(forKey: .id)
        version = try container.decode(Int64.self, forKey: .version)
        deletedAt = try container.decodeTimestamp(forKey: .deletedAt)
    }

    /// Encodes the contract's JSON: lowercase UUID, RFC 3339 UTC time with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(Timestamp.format(deletedAt), forKey: .deletedAt)
    }
}
