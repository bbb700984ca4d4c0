import AMQP
import CommonClient
import Contract
import Foundation
import Testing

/// The load test against both services in this process: a small run must succeed
/// and converge, every record present once in the peer's replica.
@Suite("Load test", .timeLimit(.minutes(3)))
struct LoadTestTests {
    @Test("200 creates, half of them orders, converge with nothing lost, duplicated or extra")
    func smallRunConverges() async throws {
        try await withSystem { system in
            var configuration = LoadTestConfiguration(count: 200, concurrency: 8, orderRatio: 0.5)
            configuration.convergenceTimeout = .seconds(30)
            let report = try await LoadTest(configuration: configuration, clients: system.clients).run()

            #expect(report.errors.isEmpty, "\(report.errorExamples)")
            let customers = try #require(report.operations[.createCustomer])
            let orders = try #require(report.operations[.createOrder])
            #expect(customers.succeeded + orders.succeeded == 200)
            #expect(orders.succeeded > 0, "the run created no order")
            #expect(report.converged)
            for direction in [report.customersToOrderService, report.ordersToCustomerService] {
                #expect(direction.missing.isEmpty)
                #expect(direction.mismatched.isEmpty)
                #expect(direction.present == direction.created)
                #expect(direction.replicaCount == direction.sourceCount)
                #expect(direction.replicaDigest == direction.sourceDigest)
                #expect(direction.deadLettered == 0)
            }
            // The databases are new: the run's records are all there is.
            #expect(report.customersToOrderService.sourceCount == Int64(customers.succeeded))
            #expect(report.ordersToCustomerService.sourceCount == Int64(orders.succeeded))
            #expect(report.records.count == 200)
            #expect(report.records.allSatisfy { ($0.lagMs ?? -1) >= 0 })
            #expect(report.customersToOrderService.lagMs?.count == customers.succeeded)
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
            var configuration = LoadTestConfiguration(count: 20, concurrency: 4, orderRatio: 0)
            configuration.convergenceTimeout = .seconds(1)
            let report = try await LoadTest(configuration: configuration, clients: system.clients).run()

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
}
