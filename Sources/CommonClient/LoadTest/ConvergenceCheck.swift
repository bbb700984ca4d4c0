import Foundation
import ServiceClient

/// A service's `GET /replication/status` answer.
typealias ClientStatus = Components.Schemas.ReplicationStatus

/// Checks that the replicas converged after a load test: first by the digests of
/// `/replication/status` (the peer's replica equals the source's own table, so
/// nothing is missing and nothing is extra), then record by record through the
/// replica endpoints: each record of the run must be there at the version its source
/// last answered, or gone when it was deleted (which also gives each record's `replicatedAt`).
struct ConvergenceCheck: Sendable {
    /// Both services' replication status at one moment.
    struct Statuses: Sendable {
        var customerService: ClientStatus
        var orderService: ClientStatus

        /// Each replica holds exactly its peer's source table (equal count and digest).
        var converged: Bool {
            orderService.replica.count == customerService.source.count
                && orderService.replica.digest == customerService.source.digest
                && customerService.replica.count == orderService.source.count
                && customerService.replica.digest == orderService.source.digest
        }

        /// Whether both readings were taken after `instant`, given that they were asked for at
        /// `asked`: a service answers a reading up to a second old (its `ageMs`).
        func taken(after instant: ContinuousClock.Instant, askedAt asked: ContinuousClock.Instant) -> Bool {
            asked - .milliseconds(max(customerService.ageMs ?? 0, orderService.ageMs ?? 0)) >= instant
        }
    }

    /// How a record in the peer's replica compares with what its source last answered.
    enum Match: Sendable, Equatable {
        /// At the source's last version (same `createdAt`), or gone when it was deleted.
        case exact
        /// Not in the replica although the source has it.
        case lost
        /// In the replica at a lower version than the source's last.
        case stale
        /// In the replica although the source deleted it.
        case revived
        /// In the replica with other contents: another `createdAt`, or a higher version than the source answered.
        case different

        /// Whether a later read may find it as expected (replication may still be on its way).
        var mayChange: Bool { self == .lost || self == .stale || self == .revived }
    }

    /// What the record-by-record check found in one direction.
    struct Tally: Sendable {
        /// Records at the source's last version.
        var present = 0
        /// Deleted records gone from the replica, as they should be.
        var deleted = 0
        var lost: [String] = []
        var stale: [String] = []
        var revived: [String] = []
        var different: [String] = []
    }

    /// What the record-by-record check found, by the create of each kind of record.
    struct Verification: Sendable {
        var tallies: [LoadTestOperation: Tally] = [:]
    }

    let clients: ServiceClients
    let concurrency: Int

    /// Reads both statuses.
    static func statuses(_ clients: ServiceClients) async throws -> Statuses {
        async let customer = clients.replicationStatus(of: .customerService)
        async let order = clients.replicationStatus(of: .orderService)
        return Statuses(customerService: try await customer, orderService: try await order)
    }

    /// Reads both statuses at the start of a run: one service that does not answer yet (not
    /// deployed, restarting) counts from zero; when neither answers, throws the first failure.
    static func startingStatuses(_ clients: ServiceClients) async throws -> Statuses {
        async let customer = try? clients.replicationStatus(of: .customerService)
        async let order = try? clients.replicationStatus(of: .orderService)
        let (customerStatus, orderStatus) = await (customer, order)
        if customerStatus == nil && orderStatus == nil { return try await statuses(clients) }
        return Statuses(customerService: customerStatus ?? .empty, orderService: orderStatus ?? .empty)
    }

    /// Polls both statuses until the replicas match their sources in readings taken after
    /// `since` (the end of the load: an older reading may predate its last records), or
    /// `timeout` passes; returns whether they matched and the last statuses read.
    func waitForDigests(since: ContinuousClock.Instant, timeout: Duration) async -> (converged: Bool, statuses: Statuses) {
        let deadline = ContinuousClock.now + timeout
        var last: Statuses?
        while true {
            let asked = ContinuousClock.now
            if let statuses = try? await Self.statuses(clients) {
                last = statuses
                if statuses.converged && statuses.taken(after: since, askedAt: asked) { return (true, statuses) }
            }
            if ContinuousClock.now >= deadline, let last { return (false, last) }
            if ContinuousClock.now >= deadline + .seconds(10) {
                // Neither service answered at all: report against empty statuses.
                return (false, Statuses(customerService: .empty, orderService: .empty))
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Reads every record from the peer's replica and compares it with what its source last
    /// answered, filling in `replicatedAt` and `replicaVersion`; a record that is lost, stale or
    /// revived is read again until `deadline` (its change may still be on its way).
    ///
    /// A record with an ``CreatedRecord/uncertain`` change is first read from its source, whose
    /// state then counts; while it does not match, its source is read again each round: a request
    /// the client gave up on may still commit later (it waited on a lock), after the first read.
    func verify(_ records: inout [CreatedRecord], deadline: ContinuousClock.Instant) async -> Verification {
        await settleUncertain(&records, indices: Array(records.indices))
        var matches: [Match] = Array(repeating: .lost, count: records.count)
        var pending = Array(records.indices)
        while true {
            var again: [Int] = []
            let snapshot = records
            await forEach(pending) { index in
                await clients.replicaState(of: snapshot[index].id, ownedBy: snapshot[index].operation.source)
            } result: { index, found in
                if case .present(let version, _, let replicatedAt) = found {
                    records[index].replicatedAt = replicatedAt
                    records[index].replicaVersion = version
                } else {
                    records[index].replicatedAt = nil
                    records[index].replicaVersion = nil
                }
                matches[index] = Self.match(records[index], found: found)
                if matches[index].mayChange || (records[index].uncertain && matches[index] != .exact) { again.append(index) }
            }
            pending = again
            if pending.isEmpty || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(200))
            await settleUncertain(&records, indices: pending)
        }
        var verification = Verification()
        for (record, match) in zip(records, matches) {
            var tally = verification.tallies[record.operation, default: Tally()]
            switch match {
            case .exact where record.deleted: tally.deleted += 1
            case .exact: tally.present += 1
            case .lost: tally.lost.append(record.id)
            case .stale: tally.stale.append(record.id)
            case .revived: tally.revived.append(record.id)
            case .different: tally.different.append(record.id)
            }
            verification.tallies[record.operation] = tally
        }
        return verification
    }

    /// How `found` (one read of the peer's replica) compares with `record` as its source last
    /// answered; a failed read counts as lost (and is read again).
    static func match(_ record: CreatedRecord, found: ReplicaState) -> Match {
        switch found {
        case .unreadable: return .lost
        // A deletion leaves a tombstone at the replica (410): absent means it has not arrived.
        case .absent: return .lost
        case .deleted: return record.deleted ? .exact : .different
        case .present(let version, let createdAt, _):
            if record.deleted { return .revived }
            if version < record.version { return .stale }
            if version > record.version || abs(createdAt.timeIntervalSince(record.createdAt)) > 0.0005 { return .different }
            return .exact
        }
    }

    /// Reads the source's state of each record of `indices` whose change may or may not have happened:
    /// its version now, or deleted when a customer is gone. One it cannot read stays as it is.
    private func settleUncertain(_ records: inout [CreatedRecord], indices: [Int]) async {
        for index in indices where records[index].uncertain {
            let record = records[index]
            do {
                records[index].version =
                    record.operation == .createCustomer
                    ? try await clients.customer(id: record.id).version : try await clients.order(id: record.id).version
                records[index].deleted = false
            } catch let failure as ClientFailure where failure.status == 404 && record.operation == .createCustomer {
                records[index].deleted = true
            } catch {
                continue
            }
        }
    }

    /// Runs `body` for each index, `concurrency` at a time, handing each result to `result` in this task.
    private func forEach<Result: Sendable>(
        _ indices: [Int],
        _ body: @escaping @Sendable (Int) async -> Result,
        result: (Int, Result) -> Void
    ) async {
        await withTaskGroup(of: (Int, Result).self) { group in
            var iterator = indices.makeIterator()
            for _ in 0..<concurrency {
                guard let index = iterator.next() else { break }
                group.addTask { (index, await body(index)) }
            }
            while let (index, value) = await group.next() {
                result(index, value)
                if let next = iterator.next() {
                    group.addTask { (next, await body(next)) }
                }
            }
        }
    }
}

extension ClientStatus {
    /// A status with nothing in it, for a service that never answered.
    static let empty = ClientStatus(
        outbox: .init(pending: 0, oldestPendingAgeMs: 0, lastPublishedSequence: 0, parked: 0),
        consumer: .init(processed: 0, duplicates: 0, deadLettered: 0),
        replica: .init(count: 0, digest: "unknown"),
        source: .init(count: 0, digest: "unknown")
    )
}
