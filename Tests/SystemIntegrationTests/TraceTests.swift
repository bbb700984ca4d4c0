import AMQP
import ArgumentParser
import Contract
import Foundation
import Replication
import TestSupport
import Testing

@testable import CommonClient

/// `GET /trace/{requestId}` and `common-client trace` (docs/design.md#trace) against the real services.
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
            try await expectEventually { try await system.clients.replicaCustomer(id: id) != nil }
            let update = "trace-update-\(system.id)"
            _ = try await send(
                .PATCH, system.customerServiceURL, path: "/customers/\(id)", body: #"{"creditLimit": 7}"#, headers: [("X-Request-ID", update)])
            try await expectEventually { try await system.clients.replicaCustomer(id: id)?.value1.version == 2 }

            let createHops = try await Self.trace(create, system)
            let createSteps = createHops.map { "\($0.service) \($0.step.rawValue)" }
            #expect(createSteps == ["customer-service committed", "customer-service published", "order-service applied"])
            let otherCreateHops = createHops.filter { $0.id != id || $0.version != 1 || $0.entity != "customer" }
            #expect(otherCreateHops.isEmpty)
            #expect(TraceCommand.pending(createHops).isEmpty)
            let updateHops = try await Self.trace(update, system)
            #expect(updateHops.map(\.step) == [.committed, .published, .applied])
            let otherUpdateHops = updateHops.filter { $0.version != 2 }
            #expect(otherUpdateHops.isEmpty)

            // An event OrderService cannot apply: its trace ends dead-lettered there, with the reason.
            let poison = "trace-poison-\(system.id)"
            var properties = EventFixture.properties
            properties.correlationID = poison
            try await system.broker.publish(
                AMQPMessage(
                    exchange: system.names.customerEvents, body: Array(#"{"eventId": "x"}"#.utf8), properties: properties, mandatory: true))
            try await expectEventually { try await system.clients.replicationStatus(of: .orderService).consumer.deadLettered == 1 }
            let poisonHops = try await Self.trace(poison, system)
            let poisonSteps = poisonHops.map { "\($0.service) \($0.step.rawValue)" }
            #expect(poisonSteps == ["order-service dead-lettered"])
            #expect(poisonHops.first?.detail?.hasPrefix("invalid-envelope") == true)
        }
    }

    @Test("a request's traceparent is continued: stored with the outbox row and sent as an AMQP header, same trace id, new parent")
    func traceContext() async throws {
        try await withSystem { system in
            let watch = system.names.queue(of: "watch", for: \.customerEvents)
            try await system.broker.declare(ReplicationTopology.subscriber(exchange: system.names.customerEvents, queue: watch, names: system.names))
            let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let created = try await send(
                .POST, system.customerServiceURL, path: "/customers", body: #"{"name": "Spanned", "email": "spanned@example.com"}"#,
                headers: [("traceparent", traceparent)])
            #expect(created.status == 201)
            try await expectEventually { try await system.broker.messageCount(queue: watch) == 1 }
            let delivery = try #require(try await system.broker.get(queue: watch))
            let sent = try #require(delivery.properties.headers["traceparent"]?.stringValue.flatMap(TraceParent.init))
            #expect(sent.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(sent.parentID != "00f067aa0ba902b7", "the service's own span is the parent of the publish")
            try await delivery.ack()
            _ = try? await system.broker.delete(queue: watch)
            _ = try? await system.broker.delete(queue: system.names.deadLetterQueue(of: watch))
        }
    }

    @Test("the trace of a request no service knows says so and exits non-zero")
    func unknownRequest() async throws {
        try await withSystem { system in
            let command = try TraceCommand.parse(
                system.clientArguments + ["never-seen-\(system.id)"])
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
