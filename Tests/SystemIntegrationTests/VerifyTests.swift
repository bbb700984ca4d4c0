import AMQP
import ArgumentParser
import Contract
import Foundation
import Replication
import TestSupport
import Testing

@testable import CommonClient

/// `common-client verify` and `resync` (docs/design.md#repair) against the real services: a replica that lost
/// rows or holds older versions behind the services' backs is found out, exactly by id, and
/// repaired; a new subscriber is bootstrapped while changes go on.
@Suite("Verify and resync")
struct VerifyTests {
    @Test("a replica's rows deleted or set to an older version behind the service's back: verify names exactly those ids")
    func findsWhatTheReplicaLost() async throws {
        try await withSystem { system in
            let customers = try await system.createCustomers(12, prefix: "v")
            let changed = customers[0]
            #expect(try await send(.PATCH, system.customerServiceURL, path: "/customers/\(changed)", body: #"{"creditLimit": 5}"#).status == 200)
            let deleted = customers[1]
            #expect(try await send(.DELETE, system.customerServiceURL, path: "/customers/\(deleted)").status == 204)
            // An order needs its customer in OrderService's replica (422 until it has arrived).
            try await expectEventually { try await system.clients.replicaCustomer(id: customers[2]) != nil }
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
                _ = try await database.query("DELETE FROM replica_orders WHERE id = $1::uuid", [order.id])
            }
            let quick = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .milliseconds(600))
            let customerReport = try await quick.verify(ReplicaVerifier.Direction.both[0])
            let found = Dictionary(uniqueKeysWithValues: customerReport.differences.map { ($0.id, $0.kind) })
            #expect(found == [customers[3]: .missing, changed: .stale, deleted: .missing])
            let orderReport = try await quick.verify(ReplicaVerifier.Direction.both[1])
            #expect(orderReport.differences.map(\.id) == [order.id])
            #expect(orderReport.differences.map(\.kind) == [.missing])

            // verify exits 1; verify --repair resyncs exactly those ids and exits 0; a watcher bound
            // to the fanout sees none of it.
            let watch = system.names.queue(of: "watch", for: \.customerEvents)
            try await system.broker.declare(ReplicationTopology.subscriber(exchange: system.names.customerEvents, queue: watch, names: system.names))
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5"]) == 1)
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5", "--repair"]) == 0)
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5"]) == 0)
            #expect(try await system.clients.replicaCustomer(id: customers[3]) != nil)
            #expect(try await system.clients.replicaCustomer(id: changed)?.value1.version == 2)
            #expect(try await system.clients.replicaCustomer(id: deleted) == nil)
            #expect(try await system.broker.messageCount(queue: watch) == 0, "other subscribers saw nothing")
            _ = try? await system.broker.delete(queue: watch)
            _ = try? await system.broker.delete(queue: system.names.deadLetterQueue(of: watch))
        }
    }

    @Test("a replica row's name changed behind the service's back at the same version: verify names that id, and a repair overwrites it")
    func findsAndRepairsChangedContent() async throws {
        try await withSystem { system in
            let customers = try await system.createCustomers(6, prefix: "c")
            let verifier = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .seconds(10))
            #expect(try await verifier.verify(ReplicaVerifier.Direction.both[0]).equal)
            let tampered = customers[0]
            try await system.withDatabase(.orderService) { database in
                try await database.query("UPDATE replica_customers SET name = 'Someone else' WHERE id = $1::uuid", [tampered])
            }
            let quick = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .milliseconds(600))
            let report = try await quick.verify(ReplicaVerifier.Direction.both[0])
            #expect(report.differences.map(\.id) == [tampered])
            #expect(report.differences.map(\.kind) == [.mismatched])
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5"]) == 1)
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "2", "--repair"]) == 0)
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5"]) == 0)
            let repaired = try await system.clients.replicaCustomer(id: tampered)
            #expect(repaired?.value1.name == "c0")
            #expect(repaired?.value1.version == 1)
        }
    }

    @Test("a replica row its source never had: verify names it extra, a repair leaves a tombstone in its place, and verify is equal")
    func repairsWhatTheSourceNeverHad() async throws {
        try await withSystem { system in
            let customers = try await system.createCustomers(4, prefix: "x")
            let verifier = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .seconds(10))
            #expect(try await verifier.verify(ReplicaVerifier.Direction.both[0]).equal)
            let stranger = UUID().lowercased
            try await system.withDatabase(.orderService) { database in
                try await database.query(
                    """
                    INSERT INTO replica_customers (id, name, email, credit_limit, created_at, version, updated_at, event_id)
                    SELECT $1::uuid, 'Never there', 'never@example.com', 0, created_at, 9000, updated_at, gen_random_uuid()
                    FROM replica_customers WHERE id = $2::uuid
                    """,
                    [stranger, customers[0]])
            }
            let quick = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .milliseconds(600))
            let report = try await quick.verify(ReplicaVerifier.Direction.both[0])
            #expect(report.differences.map(\.id) == [stranger])
            #expect(report.differences.map(\.kind) == [.extra])
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "2", "--repair"]) == 0)
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5"]) == 0)
            #expect(try await system.clients.replicaCustomer(id: stranger) == nil)
            let tombstones = try await system.withDatabase(.orderService) { database in
                try await database.query("SELECT count(*) FROM replica_customers WHERE id = $1::uuid AND deleted_at IS NOT NULL", [stranger])
                    .first!.decode(0, as: Int64.self)
            }
            #expect(tombstones == 1, "the replica keeps a tombstone of the record")
        }
    }

    @Test("a source restored from an earlier pg_dump, then changed: verify names every record that differs, and a repair makes both sides equal")
    func repairsASourceRestoredFromABackup() async throws {
        try await withSystem { system in
            let dump = FileManager.default.temporaryDirectory.appendingPathComponent("customers-\(UUID().uuidString).dump").path
            defer { try? FileManager.default.removeItem(atPath: dump) }
            let (customers, lost) = try await Self.backUpThenChange(system, prefix: "r", into: dump)

            // The restore sets the source back; then each restored record changes to the version the replica already holds.
            try await Self.restore(system, from: dump, bumpingTheEpoch: false)
            #expect(try await send(.PATCH, system.customerServiceURL, path: "/customers/\(customers[0])", body: #"{"creditLimit": 7}"#).status == 200)
            #expect(
                try await send(.PATCH, system.customerServiceURL, path: "/customers/\(customers[1])", body: #"{"name": "Back again"}"#).status == 200)

            let quick = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .seconds(2))
            let report = try await quick.verify(ReplicaVerifier.Direction.both[0])
            let found = Dictionary(uniqueKeysWithValues: report.differences.map { ($0.id, $0.kind) })
            #expect(found == [customers[0]: .mismatched, customers[1]: .mismatched, lost: .extra])
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "2", "--repair"]) == 0)
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "0.5"]) == 0)
            #expect(try await system.clients.replicaCustomer(id: customers[0])?.value1.creditLimit == 7)
            #expect(try await system.clients.replicaCustomer(id: customers[1])?.value1.name == "Back again")
            #expect(try await system.clients.replicaCustomer(id: lost) == nil)
        }
    }

    @Test("a source restored from an earlier pg_dump with its epoch bumped: its later changes replicate at once, and a repair removes what it lost")
    func restoredSourceWithABumpedEpoch() async throws {
        try await withSystem { system in
            let dump = FileManager.default.temporaryDirectory.appendingPathComponent("customers-\(UUID().uuidString).dump").path
            defer { try? FileManager.default.removeItem(atPath: dump) }
            let (customers, lost) = try await Self.backUpThenChange(system, prefix: "e", into: dump)

            // The restore, then the epoch bump, before the service starts again.
            try await Self.restore(system, from: dump, bumpingTheEpoch: true)

            // Changes to the versions the replica already holds replicate without a repair.
            #expect(try await send(.PATCH, system.customerServiceURL, path: "/customers/\(customers[0])", body: #"{"creditLimit": 7}"#).status == 200)
            let revived = try await send(.PATCH, system.customerServiceURL, path: "/customers/\(customers[1])", body: #"{"name": "Back again"}"#)
            #expect(revived.status == 200)
            try await expectEventually { try await system.clients.replicaCustomer(id: customers[1])?.value1.name == "Back again" }
            try await expectEventually { try await system.clients.replicaCustomer(id: customers[0])?.value1.creditLimit == 7 }
            let name = try await system.clients.replicaCustomer(id: customers[0])?.value1.name
            #expect(name == "e0", "the restored name came with the change")

            // What did not change since the restore is left for a repair: the customer the restore lost.
            let quick = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .seconds(2))
            let report = try await quick.verify(ReplicaVerifier.Direction.both[0])
            let found = Dictionary(uniqueKeysWithValues: report.differences.map { ($0.id, $0.kind) })
            #expect(found == [lost: .extra])
            #expect(try await Self.verifyExitCode(system, ["--settle-seconds", "2", "--repair"]) == 0)
            #expect(try await system.clients.replicaCustomer(id: lost) == nil)
        }
    }

    /// Runs `common-client verify` against `system` with `arguments`; its exit status.
    static func verifyExitCode(_ system: TestSystem, _ arguments: [String]) async throws -> Int32 {
        let command = try Verify.parse(system.clientArguments + arguments)
        do {
            try await command.run()
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        }
    }

    @Test("a new subscriber bootstraps with a resync while customers are created, changed and deleted, and ends equal to the source")
    func newSubscriberBootstraps() async throws {
        try await withSystem(configure: { $0.resyncSubscribers.insert("audit") }) { system in
            let old = try await system.createCustomers(150, prefix: "old")
            // The new subscriber's queue, bound from now on: it sees live events, and the resync brings the rest.
            let audit = system.names.queue(of: "audit", for: \.customerEvents)
            try await system.broker.declare(ReplicationTopology.subscriber(exchange: system.names.customerEvents, queue: audit, names: system.names))
            // The subscriber reads its queue while the job runs: a job waits while the queue is full.
            let finished = Locked(false)
            async let drained = Self.drain(audit, of: system, until: finished)
            async let load: Void = Self.changeCustomers(system, old: old)
            let job = try await system.clients.runResync(at: .customerService, to: "audit", ids: nil)
            try await load
            #expect(job.state == .done)
            #expect(job.sent == job.total)
            try await expectEventually { try await system.clients.replicationStatus(of: .customerService).outbox.pending == 0 }
            finished.update { $0 = true }
            let audited = try await drained
            let source = try await system.clients.recordVersions(of: .customerService, table: .own, bucket: 0, of: 1)
            #expect(audited.count == source.count)
            let versions = source.map { VersionedID(id: $0.id, version: $0.version, deleted: $0.deleted) }
            #expect(Set(audited.values) == Set(versions), "the subscriber holds every record at the source's version")
            _ = try? await system.broker.delete(queue: audit)
            _ = try? await system.broker.delete(queue: system.names.deadLetterQueue(of: audit))
        }
    }

    /// Takes every message of `queue` until `finished` and the queue is empty: the highest
    /// version of each record it saw.
    static func drain(_ queue: String, of system: TestSystem, until finished: Locked<Bool>) async throws -> [String: VersionedID] {
        var audited: [String: VersionedID] = [:]
        while true {
            guard let delivery = try await system.broker.get(queue: queue) else {
                if finished.value { return audited }
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            let event = try IncomingEvent(body: delivery.body)
            let record = try event.decodeData(as: VersionedRecord.self)
            let deleted = event.envelope.type == "customer.deleted" || record.deletedAt != nil
            if record.version > audited[record.id]?.version ?? 0 {
                audited[record.id] = VersionedID(id: record.id, version: record.version, deleted: deleted)
            }
            try await delivery.ack()
        }
    }

    /// For each of the `old` customers, with 4 clients: it is changed or deleted, and a new one
    /// is created and changed, so live events race the resync's snapshots of the same records.
    static func changeCustomers(_ system: TestSystem, old: [String]) async throws {
        try await ChangeReplicationTests.concurrently(changes: old.count, clients: 4) { index in
            let oldPath = "/customers/\(old[index])"
            if index % 5 == 0 {
                _ = try await send(.DELETE, system.customerServiceURL, path: oldPath)
            } else {
                _ = try await send(.PATCH, system.customerServiceURL, path: oldPath, body: #"{"creditLimit": \#(index)}"#)
            }
            let id = try await system.clients.createCustomer(name: "New \(index)", email: "new\(index)@example.com", creditLimit: nil).id
            _ = try await send(.PATCH, system.customerServiceURL, path: "/customers/\(id)", body: #"{"name": "Changed \#(index)"}"#)
        }
    }

    /// What the test reads from any event's `data`: the id and the version, and `deletedAt` of a tombstone.
    struct VersionedRecord: Codable, Sendable {
        var id: String
        var version: Int64
        var deletedAt: String?
    }

    @Test("the digest and records endpoints refuse what is not a table, a power of two or a bucket, with a 400 problem")
    func invalidParameters() async throws {
        try await withSystem { system in
            for path in [
                "/replication/digest", "/replication/digest?table=other", "/replication/digest?table=own&buckets=3",
                "/replication/records?table=own&buckets=4&bucket=4", "/replication/records?table=replica&after=nope",
                "/replication/digest?table=own&buckets=many", "/replication/records?table=own&bucket=first",
                "/replication/records?table=own&limit=lots",
            ] {
                let response = try await send(.GET, system.customerServiceAdminURL, path: path, headers: TestSystem.authorization)
                #expect(response.status == 400, "\(path)")
                #expect(response.headers.first(name: "Content-Type") == "application/problem+json", "\(path)")
            }
        }
    }

    /// Creates 4 customers named `prefix…`, dumps CustomerService's database into `dump`, then
    /// renames the first, deletes the second and creates one more (`lost`), all replicated.
    static func backUpThenChange(_ system: TestSystem, prefix: String, into dump: String) async throws -> (customers: [String], lost: String) {
        let customers = try await system.createCustomers(4, prefix: prefix)
        let verifier = ReplicaVerifier(clients: system.clients, buckets: 16, settle: .seconds(10))
        #expect(try await verifier.verify(ReplicaVerifier.Direction.both[0]).equal)
        try await run(script: "/usr/bin/pg_dump", "--format=custom", "--file=\(dump)", system.databaseURL(.customerService))
        let renamed = try await send(.PATCH, system.customerServiceURL, path: "/customers/\(customers[0])", body: #"{"name": "After the backup"}"#)
        #expect(renamed.status == 200)
        #expect(try await send(.DELETE, system.customerServiceURL, path: "/customers/\(customers[1])").status == 204)
        let lost = try await system.clients.createCustomer(name: "Lost", email: "lost@example.com", creditLimit: nil).id
        #expect(try await verifier.verify(ReplicaVerifier.Direction.both[0]).equal)
        return (customers, lost)
    }

    /// Stops CustomerService, restores its database from `dump` (then `scripts/bump-epoch` when
    /// asked), and starts it again on its port.
    static func restore(_ system: TestSystem, from dump: String, bumpingTheEpoch: Bool) async throws {
        let port = system.customerService.port
        try await system.customerService.stop()
        try await run(
            script: "/usr/bin/pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--dbname=\(system.databaseURL(.customerService))", dump)
        if bumpingTheEpoch {
            let bump = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("scripts/bump-epoch").path
            try await run(script: bump, system.databaseURL(.customerService))
        }
        try await system.customerService.start(port: port)
    }
}
