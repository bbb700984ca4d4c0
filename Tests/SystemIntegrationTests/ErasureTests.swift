import CommonClient
import Contract
import Foundation
import Postgres
import TestSupport
import Testing

/// A deleted customer is gone: no table of either service and no dead-letter queue keeps its
/// name or email (docs/design.md#erasure).
@Suite("Erasure on delete", .timeLimit(.minutes(2)))
struct ErasureTests {
    @Test("create, update, delete: no row of either database and no dead letter holds the name or the emails")
    func deletedCustomerLeavesNoPersonalData() async throws {
        try await withSystem { system in
            let marker = "erasure\(system.id)"
            let (createKey, updateKey) = (UUID().uuidString, UUID().uuidString)
            let created = try await send(
                .POST, system.customerServiceURL, path: "/customers",
                body: #"{"name": "Ada \#(marker)", "email": "ada.\#(marker)@example.com"}"#, headers: [("Idempotency-Key", createKey)])
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? String)
            let updated = try await send(
                .PATCH, system.customerServiceURL, path: "/customers/\(id)",
                body: #"{"name": "Ada B. \#(marker)", "email": "ada.b.\#(marker)@example.com"}"#, headers: [("Idempotency-Key", updateKey)])
            #expect(updated.status == 200)
            try await expectEventually { try await system.clients.replicaCustomer(id: id)?.value1.version == 2 }
            try await expectEventually { try await system.clients.replicationStatus(of: .customerService).outbox.pending == 0 }
            // Published events hold the data until the delete; then it goes.
            #expect(try await !Self.rows(containing: marker, in: system, .customerService).isEmpty)

            let deleted = try await send(.DELETE, system.customerServiceURL, path: "/customers/\(id)")
            #expect(deleted.status == 204)
            try await expectEventually { try await system.clients.replicaCustomer(id: id) == nil }
            try await expectEventually { try await system.clients.replicationStatus(of: .customerService).outbox.pending == 0 }

            for service in [ServiceName.customerService, .orderService] {
                let found = try await Self.rows(containing: marker, in: system, service)
                #expect(found.isEmpty, "\(service.rawValue): \(found)")
            }
            for service in [ServiceClients.Service.customerService, .orderService] {
                let letters = try await system.clients.deadLetters(of: service, limit: 1000)
                let marked = letters.items.filter { $0.body.contains(marker) }
                #expect(marked.isEmpty)
            }
            // A repeat of the create's key cannot return the erased customer.
            let repeated = try await send(
                .POST, system.customerServiceURL, path: "/customers",
                body: #"{"name": "Ada \#(marker)", "email": "ada.\#(marker)@example.com"}"#, headers: [("Idempotency-Key", createKey)])
            #expect(repeated.status == 410)
            #expect((repeated.json["type"] as? String)?.hasSuffix("gone") == true)
        }
    }

    /// The tables of `service`'s database with rows whose text holds `marker`, and how many.
    static func rows(containing marker: String, in system: TestSystem, _ service: ServiceName) async throws -> [String: Int64] {
        try await system.withDatabase(service) { database in
            let tables = try await database.query(
                "SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).map { try $0.decode(0, as: String.self) }
            var found: [String: Int64] = [:]
            for table in tables {
                // A table's name comes from the catalog, quoted: nothing a test input chose.
                let rows = try await database.query("SELECT count(*) FROM \(table) t WHERE t::text LIKE $1", ["%\(marker)%"])
                let count = try rows[0].decode(0, as: Int64.self)
                if count > 0 { found[table] = count }
            }
            return found
        }
    }
}
