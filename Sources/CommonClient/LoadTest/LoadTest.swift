import Contract
import Foundation

/// The load test: creates customers and orders, and changes them (updates, deletes,
/// cancels), at the configured mix, concurrency and rate; then waits until both services'
/// replicas converged, and checks every record of the run in its peer's replica.
/// `common-client load-test` and the system tests both run it.
///
/// Orders and changes go to records created earlier in the run. OrderService only accepts an
/// order for a customer its replica already has, so an order that is answered 422
/// unknown-customer is retried (for up to ``LoadTestConfiguration/unknownCustomerRetryLimit``)
/// and counted in ``LoadTestReport/notYetReplicated``, not as an error; when this run deleted
/// the customer meanwhile, the 422 is what should happen (``LoadTestReport/ordersForDeletedCustomers``).
/// A customer is deleted only with no update in flight, and gets no update or order afterwards;
/// an order is cancelled at most once.
///
/// The lag of a create is measured from the timestamps the services record, read back
/// through the API after the run: the source's `createdAt` and the replica's
/// `replicatedAt`, both from the database clock, so client delays do not count. The lag
/// of a change is measured while the load runs, by ``ChangeLagProbe``.
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

    /// What the workers share while the load runs.
    private struct Run: Sendable {
        let recorder: LoadTestRecorder
        let probe: ChangeLagProbe
        let clock: ContinuousClock
        let start: ContinuousClock.Instant
    }

    /// Runs the load, waits for convergence and verifies every record.
    ///
    /// Failed requests, missing or different replica records are in the report
    /// (``LoadTestReport/passed`` is false); this throws only when the services'
    /// replication status cannot be read at all (neither service answers).
    public func run() async throws -> LoadTestReport {
        let before = try await ConvergenceCheck.startingStatuses(clients)
        let clock = ContinuousClock()
        let startedAt = Date()
        let run = Run(
            recorder: LoadTestRecorder(count: configuration.count),
            probe: ChangeLagProbe(clients: clients, pollers: configuration.lagProbes),
            clock: clock, start: clock.now
        )

        let progress = Task { await LoadTestProgress(mode: configuration.progress, total: configuration.count).run(run.recorder) }
        let probing = Task { await run.probe.run() }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, configuration.concurrency) {
                group.addTask {
                    while let index = run.recorder.claimIndex() {
                        if let rate = configuration.rate, rate > 0 {
                            try? await Task.sleep(until: run.start + .seconds(Double(index) / rate), clock: clock)
                        }
                        await send(index, run: run)
                    }
                }
            }
        }
        let duration = clock.now - run.start
        progress.cancel()
        await progress.value

        var state = run.recorder.finalState()
        let check = ConvergenceCheck(clients: clients, concurrency: max(1, configuration.concurrency))
        let convergenceStart = clock.now
        let deadline = convergenceStart + configuration.convergenceTimeout
        run.probe.finish(by: deadline)
        let (converged, after) = await check.waitForDigests(since: convergenceStart, timeout: configuration.convergenceTimeout)
        var records = state.records
        let replicas = await check.verify(&records, deadline: deadline)
        // The check waited for every record (or the deadline): stop reading; a change not shown by now gets no figure.
        run.probe.finish(by: clock.now)
        let probed = await probing.value
        for (change, lag) in probed.lags { state.changes[change].lag = lag }
        state.firstReadDelays = probed.firstReadDelays

        return LoadTestReport(
            configuration: configuration, state: state, records: records, replicas: replicas, before: before, after: after,
            converged: converged, startedAt: startedAt, duration: duration, convergence: clock.now - convergenceStart
        )
    }

    /// Sends request `index`: the operation the mix gives it, or a create when there is nothing
    /// for it yet (an order needs a customer, a change a record to change).
    private func send(_ index: Int, run: Run) async {
        let operation = configuration.operation(at: index)
        switch operation {
        case .createCustomer:
            break
        case .createOrder:
            if let customerId = run.recorder.randomCustomer() { return await createOrder(index, customerId: customerId, run: run) }
        case .updateCustomer, .deleteCustomer, .cancelOrder:
            if let id = run.recorder.claimTarget(for: operation) { return await change(operation, of: id, index: index, run: run) }
        }
        await createCustomer(index, run: run)
    }

    private func createCustomer(_ index: Int, run: Run) async {
        let sent = run.clock.now
        do {
            let customer = try await clients.createCustomer(
                name: "Load Test \(index)",
                email: "lt-\(configuration.runID)-\(index)@load.example",
                creditLimit: Int64(index % 100) * 1000
            )
            run.recorder.created(
                CreatedRecord(
                    operation: .createCustomer, id: customer.id, sentAt: sent - run.start, latency: run.clock.now - sent,
                    createdAt: customer.createdAt
                ))
        } catch {
            let (kind, message) = Self.classify(error)
            run.recorder.failed(.createCustomer, kind: kind, message: message)
        }
    }

    private func createOrder(_ index: Int, customerId: String, run: Run) async {
        let giveUp = run.clock.now + configuration.unknownCustomerRetryLimit
        var delay = Duration.milliseconds(2)
        while true {
            let sent = run.clock.now
            do {
                let order = try await clients.createOrder(customerId: customerId, amount: Int64(index % 10_000) + 1)
                run.recorder.created(
                    CreatedRecord(
                        operation: .createOrder, id: order.id, sentAt: sent - run.start, latency: run.clock.now - sent,
                        createdAt: order.createdAt
                    ))
                return
            } catch let failure as ClientFailure where failure.isUnknownCustomer && run.recorder.deletedCustomer(customerId) {
                // This run deleted the customer while the order was on its way: refused, as it should be.
                run.recorder.orderForDeletedCustomer()
                return
            } catch let failure as ClientFailure where failure.isUnknownCustomer && run.clock.now < giveUp {
                run.recorder.notYetReplicated()
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(100))
            } catch {
                let (kind, message) = Self.classify(error)
                run.recorder.failed(.createOrder, kind: kind, message: message)
                return
            }
        }
    }

    /// Sends change `operation` of record `id` (taken with ``LoadTestRecorder/claimTarget(for:)``),
    /// records the answer, and has the probe watch for it in the peer's replica.
    ///
    /// An update sets a credit limit no other request uses (it ends in 7, a create's is a
    /// multiple of 1000), so it always makes a new version; every fourth also sets a new email.
    private func change(_ operation: LoadTestOperation, of id: String, index: Int, run: Run) async {
        let sent = run.clock.now
        do {
            let version: Int64?
            let expected: ChangeLagProbe.Expectation
            switch operation {
            case .updateCustomer:
                let email = index % 4 == 0 ? "lt-\(configuration.runID)-\(index)-changed@load.example" : nil
                let customer = try await clients.updateCustomer(id: id, email: email, creditLimit: Int64(index) * 10 + 7)
                (version, expected) = (customer.version, .version(customer.version, changedAt: customer.updatedAt))
            case .deleteCustomer:
                try await clients.deleteCustomer(id: id)
                (version, expected) = (nil, .deleted)
            case .cancelOrder:
                let order = try await clients.cancelOrder(id: id)
                (version, expected) = (order.version, .version(order.version, changedAt: order.updatedAt))
            case .createCustomer, .createOrder:
                preconditionFailure("\(operation) is not a change")
            }
            let answered = run.clock.now
            let change = run.recorder.changed(operation, id: id, version: version, sentAt: sent - run.start, latency: answered - sent)
            run.probe.watch(change: change, id: id, source: operation.source, expected: expected, answeredAt: answered)
        } catch {
            let (kind, message) = Self.classify(error)
            let uncertain = (error as? ClientFailure)?.mayHaveChanged ?? true
            run.recorder.failed(operation, id: id, kind: kind, message: message, uncertain: uncertain)
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
}

extension ClientFailure {
    /// OrderService's 422 for a customer its replica does not have (yet), or knows to be deleted.
    var isUnknownCustomer: Bool {
        status == 422 && (type?.hasSuffix("unknown-customer") ?? false)
    }

    /// Whether the change may have happened although it failed: no answer, or a 5xx (the
    /// service may have committed before it failed). A 4xx says it did not.
    var mayHaveChanged: Bool {
        (status ?? 500) >= 500
    }
}
