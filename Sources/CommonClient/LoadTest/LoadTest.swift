import Contract
import Foundation
import Histogram

/// The load test: creates customers and orders at the configured concurrency and
/// rate, then waits until both services' replicas hold every record created, and
/// checks each one. `common-client load-test` and the system tests both run it.
///
/// Orders go to customers created earlier in the run. OrderService only accepts an
/// order for a customer its replica already has, so an order that is answered 422
/// unknown-customer is retried (for up to ``LoadTestConfiguration/unknownCustomerRetryLimit``)
/// and counted in ``LoadTestReport/notYetReplicated``, not as an error.
///
/// Replication lag is measured from the timestamps the services record, read back
/// through the API after the run: the source's `createdAt` and the replica's
/// `replicatedAt`, both from the database clock, so client delays do not count.
public struct LoadTest: Sendable {
    /// What to do.
    public let configuration: LoadTestConfiguration
    /// The services to load.
    public let clients: ServiceClients

    /// A load test of the services behind `clients`.
    public init(configuration: LoadTestConfiguration, clients: ServiceClients) {
        self.configuration = configuration
        self.clients = clients
    }

    /// Runs the load, waits for convergence and verifies every record.
    ///
    /// Failed requests, missing or different replica records are in the report
    /// (``LoadTestReport/passed`` is false); this throws only when the services'
    /// replication status cannot be read at all (neither service answers).
    public func run() async throws -> LoadTestReport {
        let before = try await ConvergenceCheck.startingStatuses(clients)
        let recorder = LoadTestRecorder(count: configuration.count)
        let clock = ContinuousClock()
        let startedAt = Date()
        let start = clock.now

        let progress = Task { await LoadTestProgress(mode: configuration.progress, total: configuration.count).run(recorder) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, configuration.concurrency) {
                group.addTask {
                    while let index = recorder.claimIndex() {
                        if let rate = configuration.rate, rate > 0 {
                            try? await Task.sleep(until: start + .seconds(Double(index) / rate), clock: clock)
                        }
                        await send(index, recorder: recorder, clock: clock, start: start)
                    }
                }
            }
        }
        let duration = clock.now - start
        progress.cancel()
        await progress.value

        let state = recorder.finalState()
        let check = ConvergenceCheck(clients: clients, concurrency: max(1, configuration.concurrency))
        let convergenceStart = clock.now
        let (converged, after) = await check.waitForDigests(since: convergenceStart, timeout: configuration.convergenceTimeout)
        var records = state.records
        let replicas = await check.verify(&records, deadline: convergenceStart + configuration.convergenceTimeout)

        return report(
            state: state, records: records, replicas: replicas, before: before, after: after,
            converged: converged, startedAt: startedAt, duration: duration,
            convergence: clock.now - convergenceStart
        )
    }

    /// Sends request `index`: an order when it is an order slot and a customer exists, else a customer.
    private func send(_ index: Int, recorder: LoadTestRecorder, clock: ContinuousClock, start: ContinuousClock.Instant) async {
        if configuration.isOrderSlot(index), let customerId = recorder.randomCustomer() {
            await createOrder(index, customerId: customerId, recorder: recorder, clock: clock, start: start)
        } else {
            await createCustomer(index, recorder: recorder, clock: clock, start: start)
        }
    }

    private func createCustomer(_ index: Int, recorder: LoadTestRecorder, clock: ContinuousClock, start: ContinuousClock.Instant) async {
        let sent = clock.now
        do {
            let customer = try await clients.createCustomer(
                name: "Load Test \(index)",
                email: "lt-\(configuration.runID)-\(index)@load.example",
                creditLimit: Int64(index % 100) * 1000
            )
            recorder.created(
                CreatedRecord(
                    operation: .createCustomer, id: customer.id, sentAt: sent - start, latency: clock.now - sent, createdAt: customer.createdAt
                ))
        } catch {
            let (kind, message) = Self.classify(error)
            recorder.failed(.createCustomer, kind: kind, message: message)
        }
    }

    private func createOrder(
        _ index: Int, customerId: String, recorder: LoadTestRecorder, clock: ContinuousClock, start: ContinuousClock.Instant
    ) async {
        let giveUp = clock.now + configuration.unknownCustomerRetryLimit
        var delay = Duration.milliseconds(2)
        while true {
            let sent = clock.now
            do {
                let order = try await clients.createOrder(customerId: customerId, amount: Int64(index % 10_000) + 1)
                recorder.created(
                    CreatedRecord(
                        operation: .createOrder, id: order.id, sentAt: sent - start, latency: clock.now - sent, createdAt: order.createdAt
                    ))
                return
            } catch let failure as ClientFailure where failure.isUnknownCustomer && clock.now < giveUp {
                recorder.notYetReplicated()
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(100))
            } catch {
                let (kind, message) = Self.classify(error)
                recorder.failed(.createOrder, kind: kind, message: message)
                return
            }
        }
    }

    /// A short kind for counting (`HTTP 500 internal-error`, `transport: ...`) and the full message.
    static func classify(_ error: any Error) -> (kind: String, message: String) {
        guard let failure = error as? ClientFailure else { return ("\(type(of: error))", "\(error)") }
        if let status = failure.status {
            let type = failure.type.map { " " + ($0.split(separator: "/").last.map(String.init) ?? $0) } ?? ""
            return ("HTTP \(status)\(type)", failure.message)
        }
        let cause = failure.message.components(separatedBy: ": ").dropFirst().last ?? failure.message
        return ("transport: \(cause.prefix(80))", failure.message)
    }

    private func report(
        state: LoadTestRecorder.State, records: [CreatedRecord], replicas: ConvergenceCheck.Verification,
        before: ConvergenceCheck.Statuses, after: ConvergenceCheck.Statuses,
        converged: Bool, startedAt: Date, duration: Duration, convergence: Duration
    ) -> LoadTestReport {
        let seconds = max(duration.seconds, 1e-9)
        var operations: [LoadTestOperation: LoadTestReport.Operation] = [:]
        for operation in LoadTestOperation.allCases {
            let succeeded = state.succeeded[operation] ?? 0
            operations[operation] = LoadTestReport.Operation(
                succeeded: succeeded,
                failed: state.failed[operation] ?? 0,
                requestsPerSecond: Double(succeeded) / seconds,
                latencyMs: .init(microseconds: state.latency[operation] ?? Histogram(highestTrackableValue: 2))
            )
        }
        var lag: [LoadTestOperation: Histogram<UInt64>] = [:]
        let reportRecords = records.map { record in
            let lagMs = record.replicatedAt.map { max(0, $0.timeIntervalSince(record.createdAt) * 1000) }
            if let lagMs {
                lag[record.operation, default: Histogram(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)]
                    .record(UInt64((lagMs * 1000).rounded()))
            }
            return LoadTestReport.Record(
                operation: record.operation, id: record.id, sentAt: record.sentAt.seconds, latencyMs: record.latency.milliseconds,
                createdAt: record.createdAt, replicatedAt: record.replicatedAt, lagMs: lagMs
            )
        }
        func direction(
            _ operation: LoadTestOperation, source: ClientStatus, replica: ClientStatus, replicaBefore: ClientStatus
        ) -> LoadTestReport.Replication {
            let created = records.filter { $0.operation == operation }.count
            return LoadTestReport.Replication(
                created: created,
                present: replicas.present[operation] ?? 0,
                missing: replicas.missing[operation] ?? [],
                mismatched: replicas.mismatched[operation] ?? [],
                sourceCount: source.source.count,
                sourceDigest: source.source.digest,
                replicaCount: replica.replica.count,
                replicaDigest: replica.replica.digest,
                deadLettered: replica.consumer.deadLettered - replicaBefore.consumer.deadLettered,
                duplicateDeliveries: replica.consumer.duplicates - replicaBefore.consumer.duplicates,
                lagMs: lag[operation].map { .init(microseconds: $0) }
            )
        }
        let succeeded = state.succeeded.values.reduce(0, +)
        let lastReplicated = records.compactMap(\.replicatedAt).max()
        let replicatedSeconds = lastReplicated.map { max($0.timeIntervalSince(startedAt), seconds) } ?? seconds
        var report = LoadTestReport(
            runID: configuration.runID,
            startedAt: startedAt,
            count: configuration.count,
            concurrency: configuration.concurrency,
            targetRate: configuration.rate,
            orderRatio: configuration.orderRatio,
            durationSeconds: duration.seconds,
            requestsPerSecond: Double(succeeded) / seconds,
            replicatedPerSecond: Double(records.filter { $0.replicatedAt != nil }.count) / replicatedSeconds,
            operations: operations,
            notYetReplicated: state.notYetReplicated,
            errors: state.errors,
            errorExamples: state.errorExamples,
            converged: converged,
            convergenceSeconds: convergence.seconds,
            customersToOrderService: direction(
                .createCustomer, source: after.customerService, replica: after.orderService, replicaBefore: before.orderService),
            ordersToCustomerService: direction(
                .createOrder, source: after.orderService, replica: after.customerService, replicaBefore: before.customerService),
            passed: false,
            records: reportRecords
        )
        report.passed = report.meetsExpectations
        return report
    }
}

extension ClientFailure {
    /// OrderService's 422 for a customer its replica does not have (yet).
    var isUnknownCustomer: Bool {
        status == 422 && (type?.hasSuffix("unknown-customer") ?? false)
    }
}
