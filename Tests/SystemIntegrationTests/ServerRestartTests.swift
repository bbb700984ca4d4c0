import AMQP
import CommonClient
import Contract
import Foundation
import TestSupport
import Testing

/// Outages of the shared servers. The test command runs suites named `...RestartTests`
/// on their own, one test at a time, because they stop the servers every test uses.
@Suite("Server outages (ServerRestartTests)", .serialized, .timeLimit(.minutes(3)))
struct ServerRestartTests {
    @Test("with the broker stopped, creates still return 201; after it restarts, every one of them is replicated")
    func brokerDown() async throws {
        let script = try TestEnvironment.serversScript()
        try await withSystem { system in
            let ids = try await withServerStopped("rabbitmq", script: script) {
                var ids: [String] = []
                for index in 0..<25 {
                    ids.append(try await system.clients.createCustomer(name: "Down \(index)", email: "down\(index)@example.com", creditLimit: nil).id)
                }
                let health = try await system.clients.readiness(of: .customerService)
                #expect(health.status == .ok, "ready means writes are accepted: the broker is not needed")
                #expect(health.broker?.status == .down)
                #expect(try await system.clients.replicationStatus(of: .customerService).outbox.pending > 0)
                return ids
            }
            let clients = system.clients
            try await expectEventually(timeout: .seconds(60)) {
                try await clients.replicationStatus(of: .orderService).replica.count == 25
            }
            for id in ids { #expect(try await clients.replicaCustomer(id: id) != nil) }
            #expect(try await clients.replicationStatus(of: .customerService).outbox.pending == 0)
        }
    }

    @Test("with PostgreSQL stopped, consumed events are retried, not dead-lettered, and apply once it is back")
    func databaseDown() async throws {
        let script = try TestEnvironment.serversScript()
        try await withSystem { system in
            let customers = (0..<5).map {
                CustomerRecord(id: UUID(), name: "Retry \($0)", email: "retry\($0)@example.com", creditLimit: 0, createdAt: Date())
            }
            try await withServerStopped("postgres", script: script) {
                let refused = try await send(.POST, system.customerServiceURL, path: "/customers", body: #"{"name": "X", "email": "x@example.com"}"#)
                #expect(refused.status == 503)
                #expect(try await send(.GET, system.orderServiceURL, path: "/health/ready").status == 503)
                for customer in customers {
                    try await system.broker.publish(
                        AMQPMessage(
                            exchange: system.names.customerEvents, body: EventFixture.customerCreated(customer), properties: EventFixture.properties
                        ))
                }
                try await Task.sleep(for: .seconds(2))
            }
            let clients = system.clients
            await expectEventually(timeout: .seconds(60)) {
                (try? await clients.replicationStatus(of: .orderService).replica.count) == 5
            }
            let status = try await clients.replicationStatus(of: .orderService)
            #expect(status.consumer.deadLettered == 0)
            #expect(try await system.broker.messageCount(queue: system.names.deadLetterQueue(of: system.names.customerEventsQueue)) == 0)
        }
    }
}

/// Stops the shared `server` (`rabbitmq` or `postgres`) with `script`, runs `body`, and
/// starts the server again whatever happens.
private func withServerStopped<T>(_ server: String, script: String, _ body: () async throws -> T) async throws -> T {
    try await run(script: script, "stop-\(server)")
    return try await withCleanUp(body) { try await run(script: script, "start-\(server)") }
}
