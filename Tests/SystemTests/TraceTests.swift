import AMQP
import ArgumentParser
import Contract
import Foundation
import TestSupport
import Testing

@testable import CommonClient

/// `GET /trace/{requestId}` and `common-client trace` (DESIGN §10) against the real services.
@Suite("Trace")
struct TraceTests {
    @Test("the trace of a create, an update and a poison-rejected event shows the right hops in order, from both services")
    func hopsInOrder() async throws {
        try await withSystem { system in
            let create = "trace-create-\(system.id)"
            let created = try await send(
                .POST, system.customerServiceURL, path: "/customers", body: #"{"name": "Traced", "email": "traced@example.com"}"#,
                headers: [("X-Request-ID", create)])
            let id = try #require(created.json["id"] as? String)
            #expect(try await eventually { try await system.clients.replicaCustomer(id: id) != nil })
            let update = "trace-update-\(system.id)"
            _ = try await send(
                .PATCH, system.customerServiceURL, path: "/customers/\(id)", body: #"{"creditLimit": 7}"#, headers: [("X-Request-ID", update)])
            #expect(try await eventually { try await system.clients.replicaCustomer(id: id)?.value1.version == 2 })

            let createHops = try await Self.trace(create, system)
            #expect(
                createHops.map { "\($0.service) \($0.step.rawValue)" } == [
                    "customer-service committed", "customer-service published", "order-service applied",
                ])
            #expect(createHops.allSatisfy { $0.id == id && $0.version == 1 && $0.entity == "customer" })
            #expect(TraceCommand.pending(createHops).isEmpty)
            let updateHops = try await Self.trace(update, system)
            #expect(updateHops.map(\.step) == [.committed, .published, .applied])
            #expect(updateHops.allSatisfy { $0.version == 2 })

            // An event OrderService cannot apply: its trace ends dead-lettered there, with the reason.
            let poison = "trace-poison-\(system.id)"
            var properties = EventFixture.properties
            properties.correlationID = poison
            try await system.broker.publish(
                AMQPMessage(
                    exchange: system.names.customerEvents, body: Array(#"{"eventId": "x"}"#.utf8), properties: properties, mandatory: true))
            #expect(try await eventually { try await system.clients.replicationStatus(of: .orderService).consumer.deadLettered == 1 })
            let poisonHops = try await Self.trace(poison, system)
            #expect(poisonHops.map { "\($0.service) \($0.step.rawValue)" } == ["order-service dead-lettered"])
            #expect(poisonHops.first?.detail?.hasPrefix("invalid-envelope") == true)
        }
    }

    @Test("the trace of a request no service knows says so and exits non-zero")
    func unknownRequest() async throws {
        try await withSystem { system in
            let command = try TraceCommand.parse(
                [
                    "--customer-service-url", system.customerServiceURL.absoluteString, "--order-service-url",
                    system.orderServiceURL.absoluteString, "never-seen-\(system.id)",
                ])
            await #expect(throws: ExitCode.failure) { try await command.run() }
        }
    }

    /// Both services' hops of `requestId`, as the command orders them.
    static func trace(_ requestId: String, _ system: TestSystem) async throws -> [TraceCommand.Hop] {
        let customer = try await system.clients.trace(requestId, at: .customerService)
        let order = try await system.clients.trace(requestId, at: .orderService)
        return TraceCommand.timeline(customer + order)
    }
}
