import AMQP
import Contract
import Foundation
import ServiceClient
import Testing

@testable import CommonClient

/// The load test against both services in this process: a small run must succeed
/// and converge, every record present once in the peer's replica at its last version,
/// every deleted one gone.
@Suite("Load test", .timeLimit(.minutes(3)))
struct LoadTestTests {
    @Test("200 creates, half of them orders, converge with nothing lost, duplicated or extra")
    func smallRunConverges() async throws {
        let creates = LoadTestConfiguration(count: 200, concurrency: 8, orderRatio: 0.5, updateRatio: 0, deleteRatio: 0, cancelRatio: 0)
        try await withSystem { system in
            let report = try await run(creates, on: system)

            #expect(report.errors.isEmpty, "\(report.errorExamples)")
            let customers = try #require(report.operations[.createCustomer])
            let orders = try #require(report.operations[.createOrder])
            #expect(customers.succeeded + orders.succeeded == 200)
            #expect(orders.succeeded > 0, "the run created no order")
            #expect(report.converged)
            for direction in [report.customersToOrderService, report.ordersToCustomerService] {
                expectExact(direction)
                #expect(direction.present == direction.created)
                #expect(direction.changed == 0)
            }
            // The databases are new: the run's records are all there is.
            #expect(report.customersToOrderService.sourceCount == Int64(customers.succeeded))
            #expect(report.ordersToCustomerService.sourceCount == Int64(orders.succeeded))
            #expect(report.records.count == 200)
            #expect(report.changes.isEmpty)
            let withoutLag = report.records.filter { ($0.lagMs ?? -1) < 0 }
            #expect(withoutLag.isEmpty)
            #expect(report.customersToOrderService.lagMs?.count == customers.succeeded)
            #expect(report.passed)
        }
    }

    @Test("a mix of creates, updates, deletes and cancels converges: nothing lost, stale or revived")
    func mixedRunConverges() async throws {
        try await withSystem { system in
            let report = try await run(
                LoadTestConfiguration(count: 400, concurrency: 8, orderRatio: 0.5, updateRatio: 0.15, deleteRatio: 0.05, cancelRatio: 0.1),
                on: system)

            #expect(report.errors.isEmpty, "\(report.errorExamples)")
            var succeeded: [LoadTestOperation: Int] = [:]
            for operation in LoadTestOperation.allCases {
                succeeded[operation] = try #require(report.operations[operation]).succeeded
                #expect(succeeded[operation, default: 0] > 0, "the run made no \(operation.rawValue)")
            }
            // Every request succeeded, but for orders refused because the run had deleted their customer.
            #expect(succeeded.values.reduce(0, +) + report.ordersForDeletedCustomers == 400)
            #expect(report.converged)
            let customers = report.customersToOrderService
            let orders = report.ordersToCustomerService
            for direction in [customers, orders] {
                expectExact(direction)
                #expect(direction.present + direction.deleted == direction.created)
            }
            #expect(customers.deleted == succeeded[.deleteCustomer])
            #expect(customers.changed == succeeded[.updateCustomer, default: 0] + succeeded[.deleteCustomer, default: 0])
            #expect(orders.changed == succeeded[.cancelOrder])
            // The databases are new: the run's records are all there is, the deleted customers gone from the source.
            #expect(customers.sourceCount == Int64(succeeded[.createCustomer, default: 0] - succeeded[.deleteCustomer, default: 0]))
            #expect(orders.sourceCount == Int64(succeeded[.createOrder, default: 0]))

            // Each record's last state is what the changes answered, and its replica holds that version.
            let records = Dictionary(uniqueKeysWithValues: report.records.map { ($0.id, $0) })
            #expect(report.changes.count == customers.changed + orders.changed)
            for change in report.changes {
                let record = try #require(records[change.id], "change of \(change.id), which the run did not create")
                if let version = change.version {
                    #expect(record.version >= version)
                } else {
                    #expect(record.deleted)
                }
            }
            let cancelled = report.changes.filter { $0.operation == .cancelOrder }
            let notCancelledOnce = cancelled.filter { $0.version != 2 }
            #expect(notCancelledOnce.isEmpty, "each order is cancelled once")
            #expect(Set(cancelled.map(\.id)).count == cancelled.count)
            let deletions = report.changes.filter { $0.operation == .deleteCustomer }
            #expect(Set(deletions.map(\.id)).count == deletions.count, "each customer is deleted once")
            for record in report.records {
                #expect(record.replicaVersion == (record.deleted ? nil : record.version), "\(record.id)")
            }

            // Lag: the creates of records never changed, and the changes, each direction on its own.
            let measuredButChanged = report.records.filter { $0.lagMs != nil && ($0.version != 1 || $0.deleted) }
            #expect(measuredButChanged.isEmpty)
            for direction in [customers, orders] {
                let changeLag = try #require(direction.changeLagMs)
                #expect(changeLag.count > 0 && changeLag.count <= direction.changed)
                #expect(changeLag.p50 >= 0 && changeLag.max >= changeLag.p50)
                #expect((direction.lagMs?.count ?? 0) > 0)
            }
            for operation in [LoadTestOperation.updateCustomer, .deleteCustomer, .cancelOrder] {
                #expect((report.operations[operation]?.replicationLagMs?.count ?? 0) > 0, "no lag of \(operation.rawValue)")
            }
            let negativeLags = report.changes.compactMap(\.lagMs).filter { $0 < 0 }
            #expect(negativeLags.isEmpty)
            #expect(report.text().contains("customer deletes → OrderService"))
            #expect(report.passed)
        }
    }

    @Test("records that never reach the peer's replica fail the run, each one reported missing")
    func missingRecordsFail() async throws {
        // OrderService listens on broker names of its own, so no customer event reaches it.
        let elsewhere = ReplicationNames(prefix: "t-elsewhere-\(UUID().uuidString.prefix(8).lowercased()).")
        try await withSystem(configure: { configuration in
            if configuration.service == .orderService { configuration.names = elsewhere }
        }) { system in
            let report = try await run(
                LoadTestConfiguration(count: 20, concurrency: 4, orderRatio: 0, updateRatio: 0, deleteRatio: 0, cancelRatio: 0),
                convergenceTimeout: .seconds(1), on: system)

            #expect(report.errors.isEmpty)
            #expect(!report.converged)
            #expect(report.customersToOrderService.created == 20)
            #expect(report.customersToOrderService.missing.count == 20)
            #expect(report.customersToOrderService.replicaCount == 0)
            #expect(!report.passed)

            for queue in [elsewhere.customerEventsQueue, elsewhere.orderEventsQueue] {
                _ = try? await system.broker.delete(queue: queue)
                _ = try? await system.broker.delete(queue: elsewhere.deadLetterQueue(of: queue))
            }
            for exchange in [elsewhere.customerEvents, elsewhere.orderEvents, elsewhere.deadLetterExchange] {
                try? await system.broker.delete(exchange: exchange)
            }
        }
    }

    /// Runs the load test of `configuration` against `system`, waiting up to `convergenceTimeout` for convergence.
    private func run(
        _ configuration: LoadTestConfiguration, convergenceTimeout: Duration = .seconds(30), on system: TestSystem
    ) async throws -> LoadTestReport {
        var configuration = configuration
        configuration.convergenceTimeout = convergenceTimeout
        return try await LoadTest(configuration: configuration, clients: system.clients).run()
    }

    /// Nothing lost, stale, revived or different, equal counts and digests, nothing dead-lettered.
    private func expectExact(_ direction: LoadTestReport.Replication, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(direction.missing.isEmpty, "lost: \(direction.missing.prefix(5))", sourceLocation: sourceLocation)
        #expect(direction.stale.isEmpty, "stale: \(direction.stale.prefix(5))", sourceLocation: sourceLocation)
        #expect(direction.revived.isEmpty, "revived: \(direction.revived.prefix(5))", sourceLocation: sourceLocation)
        #expect(direction.mismatched.isEmpty, "different: \(direction.mismatched.prefix(5))", sourceLocation: sourceLocation)
        #expect(direction.replicaCount == direction.sourceCount, sourceLocation: sourceLocation)
        #expect(direction.replicaDigest == direction.sourceDigest, sourceLocation: sourceLocation)
        #expect(direction.deadLettered == 0, sourceLocation: sourceLocation)
    }
}
