import Contract
import Foundation
import Postgres
import Replication
import ServiceSupport
import TestSupport
import Testing

@testable import CustomerService
@testable import OrderService

/// Existing databases upgrade in place: rows written before records had versions become
/// version 1, last changed when they were created.
@Suite("Schema upgrade in place")
struct MigrationUpgradeTests {
    @Test("customers and replicated orders from before versions become version 1, updatedAt = createdAt")
    func customerServiceUpgrade() async throws {
        let before = ReplicationSchema.migrations + CustomerServiceMigrations.all.filter { $0.version == ReplicationSchema.firstServiceVersion }
        try await TestDatabase.withTestClient(migrations: before) { client in
            let customer = UUID()
            let order = UUID()
            try await client.withConnection { connection in
                try await connection.query(
                    "INSERT INTO customers (id, name, email, credit_limit) VALUES ($1, 'Old', 'old@example.com', 0)", [customer])
                try await connection.query(
                    """
                    INSERT INTO replica_orders (id, customer_id, amount, status, created_at, event_id)
                    VALUES ($1, $2, 5, 'created', '2026-01-01T00:00:00Z', gen_random_uuid())
                    """, [order, customer])
            }
            try await Migrator(migrations: ReplicationSchema.migrations + CustomerServiceMigrations.all, advisoryLockKey: 42)
                .migrate(client, logger: TestEnvironment.logger)
            let own = try #require(try await RecordTable<CustomerRecord>(name: "customers").record(id: customer, in: client))
            #expect(own.version == 1)
            #expect(own.updatedAt == own.createdAt)
            let replica = try #require(try await ReplicaTable<OrderRecord>(name: "replica_orders").record(id: order, in: client))
            #expect(replica.record.version == 1)
            #expect(replica.record.updatedAt == replica.record.createdAt)
        }
    }

    @Test("orders and replicated customers from before versions become version 1")
    func orderServiceUpgrade() async throws {
        let before = ReplicationSchema.migrations + OrderServiceMigrations.all.filter { $0.version == ReplicationSchema.firstServiceVersion }
        try await TestDatabase.withTestClient(migrations: before) { client in
            let customer = UUID()
            try await client.withConnection { connection in
                try await connection.query(
                    """
                    INSERT INTO replica_customers (id, name, email, credit_limit, created_at, event_id)
                    VALUES ($1, 'Old', 'old@example.com', 0, '2026-01-01T00:00:00Z', gen_random_uuid())
                    """, [customer])
                try await connection.query("INSERT INTO orders (id, customer_id, amount) VALUES (gen_random_uuid(), $1, 5)", [customer])
            }
            try await Migrator(migrations: ReplicationSchema.migrations + OrderServiceMigrations.all, advisoryLockKey: 42)
                .migrate(client, logger: TestEnvironment.logger)
            let versions = try await client.query(
                "SELECT (SELECT min(version) FROM orders), (SELECT bool_and(updated_at = created_at) FROM orders), (SELECT min(version) FROM replica_customers)"
            )
            #expect(try versions[0].decode(0, as: Int64.self) == 1)
            #expect(try versions[0].decode(1, as: Bool.self))
            #expect(try versions[0].decode(2, as: Int64.self) == 1)
        }
    }
}
