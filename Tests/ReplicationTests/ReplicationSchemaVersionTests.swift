import Replication
import Testing

/// The versions of the shared tables' migrations (migrating them: `ReplicationSchemaTests`, an integration test).
@Suite("Replication schema versions")
struct ReplicationSchemaVersionTests {
    @Test("shared versions are positive, unique and below the services' first version")
    func versions() {
        let versions = ReplicationSchema.migrations.map(\.version)
        #expect(!versions.isEmpty)
        #expect(Set(versions).count == versions.count)
        let misplaced = versions.filter { $0 <= 0 || $0 >= ReplicationSchema.firstServiceVersion }
        #expect(misplaced.isEmpty)
    }
}
