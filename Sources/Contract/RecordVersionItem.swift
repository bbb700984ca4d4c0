/// One item of `RecordVersionPage` (`GET /replication/records`): a record's id, its version, and
/// whether it is deleted (the version is then its tombstone's).
public struct RecordVersionItem: Codable, Hashable, Sendable {
    /// The record's id, lowercase.
    public var id: String
    /// The record's version.
    public var version: Int64
    /// The record is deleted.
    public var deleted: Bool

    /// Creates an item.
    public init(id: String, version: Int64, deleted: Bool) {
        (self.id, self.version, self.deleted) = (id, version, deleted)
    }
}
