import Logging

/// Brings a database's schema up to date at start-up, and refuses a schema it does not know.
///
/// `migrate` takes a session-level advisory lock on one connection, so that concurrent instances
/// (two replicas starting together) apply each migration once; the others wait, then find nothing
/// to do. Each pending migration runs in its own transaction together with the row that records
/// it (version, name, SHA-256 of the SQL computed by the server, time).
public struct Migrator: Sendable {
    /// The migrations this binary knows, sorted by version.
    public var migrations: [Migration]
    /// The table that records applied migrations; `name` or `schema.name`.
    public var table: String
    /// The key of the `pg_advisory_lock` held while migrating; the same for every instance of a service.
    public var advisoryLockKey: Int64

    /// Creates a migrator; nothing is checked until ``migrate(_:logger:)``.
    public init(migrations: [Migration], table: String = "schema_migrations", advisoryLockKey: Int64) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.table = table
        self.advisoryLockKey = advisoryLockKey
    }

    /// Applies the pending migrations, in version order. Idempotent.
    ///
    /// - Throws: ``PostgresError/Code/migration`` when the list has duplicate or non-positive
    ///   versions, when the database records a version this binary does not know (it was migrated
    ///   by a newer binary), when an applied migration's SQL changed since (checksum mismatch), or
    ///   when a migration fails (with the server's SQLSTATE and message). Nothing of a failed
    ///   migration is kept.
    public func migrate(_ client: PostgresClient, logger: Logger) async throws {
        let table = try self.quotedTable()
        try self.checkVersions()
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock($1)", [self.advisoryLockKey])
            do {
                try await self.migrateLocked(connection, table: table, logger: logger)
            } catch {
                await self.unlock(connection)
                throw error
            }
            await self.unlock(connection)
        }
    }

    private func migrateLocked(_ connection: PostgresConnection, table: String, logger: Logger) async throws {
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(table) (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        let checksums = try await connection.query(
            """
            SELECT encode(sha256(convert_to(sql, 'UTF8')), 'hex')
            FROM unnest($1::text[]) WITH ORDINALITY AS m(sql, position) ORDER BY position
            """,
            [self.migrations.map(\.sql)]
        ).map { try $0.decode(0, as: String.self) }
        let known = Dictionary(
            uniqueKeysWithValues: zip(self.migrations, checksums).map { ($0.version, (migration: $0, checksum: $1)) }
        )
        var applied = Set<Int>()
        for row in try await connection.query("SELECT version, name, checksum FROM \(table) ORDER BY version") {
            let version = try row.decode(0, as: Int.self)
            let name = try row.decode(1, as: String.self)
            guard let expected = known[version] else {
                throw PostgresError(
                    code: .migration,
                    message: "the database has migration \(version) (\(name)) applied, which this binary does not know; "
                        + "refusing to run against a schema it does not recognise"
                )
            }
            guard try row.decode(2, as: String.self) == expected.checksum else {
                throw PostgresError(
                    code: .migration,
                    message: "migration \(version) (\(expected.migration.name)) was changed after it was applied "
                        + "(checksum mismatch); add a new migration instead of editing an applied one"
                )
            }
            applied.insert(version)
        }
        for (migration, checksum) in zip(self.migrations, checksums) where !applied.contains(migration.version) {
            try await self.apply(migration, checksum: checksum, connection: connection, table: table)
            logger.info(
                "applied database migration",
                metadata: ["db.migration.version": "\(migration.version)", "db.migration.name": "\(migration.name)"]
            )
        }
    }

    private func apply(_ migration: Migration, checksum: String, connection: PostgresConnection, table: String) async throws {
        do {
            try await connection.withTransaction { connection in
                try await connection.execute(migration.sql)
                _ = try await connection.query(
                    "INSERT INTO \(table) (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, checksum]
                )
            }
        } catch let error as PostgresError where error.code == .server {
            throw PostgresError(
                code: .migration,
                message: "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                sqlState: error.sqlState,
                detail: error.detail,
                constraint: error.constraint
            )
        }
    }

    /// Releases the advisory lock; if that fails, the connection is closed, which releases it too.
    private func unlock(_ connection: PostgresConnection) async {
        do {
            _ = try await connection.query("SELECT pg_advisory_unlock($1)", [self.advisoryLockKey])
        } catch {
            connection.handle.requestDiscard()
        }
    }

    private func checkVersions() throws {
        var seen = Set<Int>()
        for migration in self.migrations {
            guard migration.version > 0, seen.insert(migration.version).inserted else {
                throw PostgresError(
                    code: .migration,
                    message: "migration versions must be positive and unique; \(migration.version) is not"
                )
            }
        }
    }

    /// The table name as a quoted identifier; only letters, digits and `_`, optionally schema-qualified.
    private func quotedTable() throws -> String {
        func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
        }
        let parts = self.table.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            (1...2).contains(parts.count)
            && parts.allSatisfy { part in
                guard let first = part.unicodeScalars.first, isLetter(first) else { return false }
                return part.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
            }
        guard valid else {
            throw PostgresError(code: .invalidConfiguration, message: "invalid migrations table name \"\(self.table)\"")
        }
        return parts.map { "\"\($0)\"" }.joined(separator: ".")
    }
}
