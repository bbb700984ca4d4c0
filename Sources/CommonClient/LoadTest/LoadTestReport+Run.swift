import Foundation
import Histogram

extension LoadTestReport {
    /// The report of a run: what the workers recorded (`state`), the records as the check found
    /// them in the peer's replicas, and both services' status before the load and after the wait.
    init(
        configuration: LoadTestConfiguration, state: LoadTestRecorder.State, records: [CreatedRecord],
        replicas: ConvergenceCheck.Verification, before: ConvergenceCheck.Statuses, after: ConvergenceCheck.Statuses,
        converged: Bool, startedAt: Date, duration: Duration, convergence: Duration
    ) {
        let seconds = max(duration.seconds, 1e-9)
        var changeLag = LagHistograms()
        var boundedLags: [LoadTestOperation: Int] = [:]
        let reportChanges = state.changes.map { change in
            let lagMs = change.lag?.duration.milliseconds
            if let lag = change.lag, let lagMs {
                if lag.isBound { boundedLags[change.operation, default: 0] += 1 } else { changeLag.record(lagMs, for: change.operation) }
            }
            return Change(
                operation: change.operation, id: change.id, version: change.version, sentAt: change.sentAt.seconds,
                latencyMs: change.latency.milliseconds, lagMs: lagMs, lagIsBound: change.lag?.isBound == true ? true : nil
            )
        }
        var probeDelays = LagHistograms()
        for delay in state.firstReadDelays { probeDelays.record(delay.milliseconds, for: .updateCustomer) }
        var operations: [LoadTestOperation: Operation] = [:]
        for operation in LoadTestOperation.allCases {
            let succeeded = state.succeeded[operation] ?? 0
            operations[operation] = Operation(
                succeeded: succeeded,
                failed: state.failed[operation] ?? 0,
                requestsPerSecond: Double(succeeded) / seconds,
                latencyMs: .init(microseconds: state.latency[operation] ?? Histogram(highestTrackableValue: 2)),
                replicationLagMs: operation.isCreate ? nil : changeLag.percentiles(of: [operation]),
                boundedLags: operation.isCreate ? nil : boundedLags[operation, default: 0]
            )
        }
        var createLag = LagHistograms()
        let reportRecords = records.map { record in
            // The replica row of a record changed later carries the time of its last change, not of its creation.
            let lagMs = record.version == 1 && !record.deleted ? record.replicatedAt.map { $0.timeIntervalSince(record.createdAt) * 1000 } : nil
            if let lagMs { createLag.record(lagMs, for: record.operation) }
            return Record(
                operation: record.operation, id: record.id, sentAt: record.sentAt.seconds, latencyMs: record.latency.milliseconds,
                createdAt: record.createdAt, version: record.version, deleted: record.deleted, replicaVersion: record.replicaVersion,
                replicatedAt: record.replicatedAt, lagMs: lagMs.map { max(0, $0) }
            )
        }
        func direction(_ create: LoadTestOperation, source: ClientStatus, replica: ClientStatus, replicaBefore: ClientStatus) -> Replication {
            let tally = replicas.tallies[create] ?? ConvergenceCheck.Tally()
            return Replication(
                created: records.filter { $0.operation == create }.count,
                present: tally.present,
                deleted: tally.deleted,
                missing: tally.lost,
                stale: tally.stale,
                revived: tally.revived,
                mismatched: tally.different,
                changed: state.changes.filter { $0.operation.create == create }.count,
                sourceCount: source.source.count,
                sourceDigest: source.source.digest,
                replicaCount: replica.replica.count,
                replicaDigest: replica.replica.digest,
                deadLettered: replica.consumer.deadLettered - replicaBefore.consumer.deadLettered,
                duplicateDeliveries: replica.consumer.duplicates - replicaBefore.consumer.duplicates,
                lagMs: createLag.percentiles(of: [create]),
                changeLagMs: changeLag.percentiles(of: LoadTestOperation.allCases.filter { !$0.isCreate && $0.create == create })
            )
        }
        let succeeded = state.succeeded.values.reduce(0, +)
        let lastReplicated = records.compactMap(\.replicatedAt).max()
        let replicatedSeconds = lastReplicated.map { max($0.timeIntervalSince(startedAt), seconds) } ?? seconds
        self.init(
            runID: configuration.runID,
            startedAt: startedAt,
            count: configuration.count,
            concurrency: configuration.concurrency,
            targetRate: configuration.rate,
            orderRatio: configuration.orderRatio,
            updateRatio: configuration.updateRatio,
            deleteRatio: configuration.deleteRatio,
            cancelRatio: configuration.cancelRatio,
            durationSeconds: duration.seconds,
            requestsPerSecond: Double(succeeded) / seconds,
            replicatedPerSecond: Double(records.filter { $0.replicatedAt != nil }.count) / replicatedSeconds,
            operations: operations,
            notYetReplicated: state.notYetReplicated,
            probeFirstReadMs: probeDelays.percentiles(of: [.updateCustomer]),
            ordersForDeletedCustomers: state.ordersForDeletedCustomers,
            errors: state.errors,
            errorExamples: state.errorExamples,
            converged: converged,
            convergenceSeconds: convergence.seconds,
            customersToOrderService: direction(
                .createCustomer, source: after.customerService, replica: after.orderService, replicaBefore: before.orderService),
            ordersToCustomerService: direction(
                .createOrder, source: after.orderService, replica: after.customerService, replicaBefore: before.customerService),
            passed: false,
            records: reportRecords,
            changes: reportChanges
        )
        passed = meetsExpectations
    }
}

/// Replication lags in milliseconds, by operation.
private struct LagHistograms {
    private var histograms: [LoadTestOperation: Histogram<UInt64>] = [:]

    /// Adds `milliseconds` (a negative one, from clocks apart, as 0).
    mutating func record(_ milliseconds: Double, for operation: LoadTestOperation) {
        // Microseconds, up to an hour, three significant digits.
        histograms[operation, default: Histogram(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)]
            .record(UInt64((max(0, milliseconds) * 1000).rounded()))
    }

    /// The percentiles of `operations` together; nil when they have no figure.
    func percentiles(of operations: [LoadTestOperation]) -> LoadTestReport.Percentiles? {
        let merged = operations.compactMap { histograms[$0] }.reduce(into: Histogram<UInt64>?.none) { merged, histogram in
            if merged == nil { merged = histogram } else { merged?.add(histogram) }
        }
        return merged.map { .init(microseconds: $0) }
    }
}
