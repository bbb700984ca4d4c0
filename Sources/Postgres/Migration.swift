/// One schema change: applied once, in version order, inside its own transaction.
///
/// Never edit a migration that has been applied anywhere: the ``Migrator`` records a checksum of
/// `sql` and refuses to start when it changes. Add a new migration instead.
public struct Migration: Sendable {
    /// The position in the sequence; unique and positive.
    public var version: Int
    /// A short description, recorded with the version.
    public var name: String
    /// One or more SQL statements, run over the simple protocol.
    public var sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
