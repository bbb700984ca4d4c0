import Foundation
import ServiceClient

/// A service's `GET /replication/status` answer.
typealias ClientStatus = Components.Schemas.ReplicationStatus

/// Checks that the replicas converged after a load test: first by the digests of
/// `/replication/status` (the peer's replica equals the source's own table, so
/// nothing is missing and nothing is extra), then record by record through the
/// replica endpoints, which also gives each record's `replicatedAt`.
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

    /// What the record-by-record check found, per operation.
    struct Verification: Sendable {
        var present: [LoadTestOperation: Int] = [:]
        var missing: [LoadTestOperation: [String]] = [:]
        var mismatched: [LoadTestOperation: [String]] = [:]
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

    /// Fetches every record from the peer's replica, filling in `replicatedAt`; a
    /// record not there yet is asked for again until `deadline`.
    func verify(_ records: inout [CreatedRecord], deadline: ContinuousClock.Instant) async -> Verification {
        var verification = Verification()
        var pending = Array(records.indices)
        var mismatched: [Int] = []
        while true {
            var absent: [Int] = []
            let snapshot = records
            await forEach(pending) { index in
                await Self.fetch(snapshot[index], clients: clients)
            } result: { index, outcome in
                switch outcome {
                case .present(let createdAt, let replicatedAt):
                    records[index].replicatedAt = replicatedAt
                    if abs(createdAt.timeIntervalSince(records[index].createdAt)) > 0.0005 { mismatched.append(index) }
                case .absent:
                    absent.append(index)
                }
            }
            pending = absent
            if pending.isEmpty || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(200))
        }
        for record in records where record.replicatedAt != nil {
            verification.present[record.operation, default: 0] += 1
        }
        for index in mismatched {
            verification.present[records[index].operation, default: 0] -= 1
            verification.mismatched[records[index].operation, default: []].append(records[index].id)
        }
        for index in pending {
            verification.missing[records[index].operation, default: []].append(records[index].id)
        }
        return verification
    }

    private enum Outcome: Sendable {
        case present(createdAt: Date, replicatedAt: Date)
        case absent
    }

    /// One record from the peer's replica; a failed call counts as absent (asked again).
    private static func fetch(_ record: CreatedRecord, clients: ServiceClients) async -> Outcome {
        switch record.operation {
        case .createCustomer:
            guard let replica = try? await clients.replicaCustomer(id: record.id), replica.value1.id == record.id else { return .absent }
            return .present(createdAt: replica.value1.createdAt, replicatedAt: replica.value2.replicatedAt)
        case .createOrder:
            guard let replica = try? await clients.replicaOrder(id: record.id), replica.value1.id == record.id else { return .absent }
            return .present(createdAt: replica.value1.createdAt, replicatedAt: replica.value2.replicatedAt)
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
