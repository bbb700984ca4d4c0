import Contract
import Foundation
import TestSupport
import Testing

@testable import CommonClient

/// `common-client verify` (DESIGN §8) against the real services: a replica that lost rows or
/// holds older versions behind the services' backs is found out, exactly by id.
@Suite("Verify")
struct VerifyTests {
    @Test("a replica's rows deleted or set to an older version behind the service's back: verify names exactly those ids")
    func findsWhatTheReplicaLost() async throws {
        try await withSystem { system in
            var customers: [String] = []
            for index in 0..<12 {
                customers.append(try await system.clients.createCustomer(name: "V\(index)", email: "v\(index)@example.com", creditLimit: nil).id)
            }
            let changed = customers[0]
            #expect(try await send(.PATCH, system.customerServiceURL, path: "/customers/\(changed)", body: #"{"creditLimit": 5}"#).status == 200)
            let deleted = customers[1]
            #expect(try await send(.DELETE, system.customerServiceURL, path: "/customers/\(deleted)").status == 204)
            let order = try await system.clients.createOrder(customerId: customers[2], amount: 10)
            let verifier = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .seconds(10))
            for direction in ReplicaVerifier.Direction.both {
                let report = try await verifier.verify(direction)
                #expect(report.equal, "\(direction.records): \(report.differences)")
            }
            #expect(try await verifier.verify(ReplicaVerifier.Direction.both[0]).sourceCount == 12, "11 customers and 1 tombstone")

            // Behind the services' backs: a lost row, an older version, a lost tombstone, a lost order.
            try await system.withDatabase(.orderService) { database in
                try await database.query("DELETE FROM replica_customers WHERE id = $1::uuid", [customers[3]])
                try await database.query("UPDATE replica_customers SET version = 1 WHERE id = $1::uuid", [changed])
                try await database.query("DELETE FROM replica_customers WHERE id = $1::uuid", [deleted])
            }
            try await system.withDatabase(.customerService) { database in
                try await database.query("DELETE FROM replica_orders WHERE id = $1::uuid", [order.id])
            }
            let quick = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .milliseconds(600))
            let customerReport = try await quick.verify(ReplicaVerifier.Direction.both[0])
            let found = Dictionary(uniqueKeysWithValues: customerReport.differences.map { ($0.id, $0.kind) })
            #expect(found == [customers[3]: .missing, changed: .stale, deleted: .missing])
            let orderReport = try await quick.verify(ReplicaVerifier.Direction.both[1])
            #expect(orderReport.differences.map(\.id) == [order.id])
            #expect(orderReport.differences.map(\.kind) == [.missing])
        }
    }

    @Test("the digest and records endpoints refuse what is not a table, a power of two or a bucket, with a 400 problem")
    func invalidParameters() async throws {
        try await withSystem { system in
            for path in [
                "/replication/digest", "/replication/digest?table=other", "/replication/digest?table=own&buckets=3",
                "/replication/records?table=own&buckets=4&bucket=4", "/replication/records?table=replica&after=nope",
            ] {
                let response = try await send(.GET, system.customerServiceURL, path: path)
                #expect(response.status == 400, "\(path)")
                #expect(response.headers.first(name: "Content-Type") == "application/problem+json", "\(path)")
            }
        }
    }
}
