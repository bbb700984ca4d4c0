import AMQP
import Contract
import Foundation
import Replication
import TestSupport
import Testing

@testable import CommonClient

/// The dead-letter queue as a store (docs/design.md#dead-letters), against the real services and broker.
@Suite("Dead letters")
struct DeadLetterTests {
    @Test("a valid event in the dead-letter queue is listed with its reason, replayed and applied once; discard empties what it names")
    func listReplayDiscard() async throws {
        try await withSystem { system in
            let deadLetterQueue = system.names.deadLetterQueue(of: system.names.customerEventsQueue)
            let customer = CustomerRecord(id: UUID(), name: "Late", email: "late@example.com", creditLimit: 0, createdAt: Date())
            let body = EventFixture.customerCreated(customer)
            let eventId = try IncomingEvent(body: body).envelope.eventId.lowercased
            // As if the consumer had dead-lettered it while the database was down, and a poison message.
            try await Self.deadLetter(body, eventId: eventId, reason: "processing-failed: the database was unreachable", in: deadLetterQueue, system)
            try await Self.deadLetter(
                Array("{nope".utf8), eventId: nil, reason: "invalid-json: the body is not a JSON object", in: deadLetterQueue, system)

            let listed = try await system.clients.deadLetters(of: .orderService, limit: 10)
            #expect(listed.total == 2)
            #expect(listed.items.map(\.reason) == ["processing-failed", "invalid-json"])
            #expect(listed.items.first?.eventId == eventId)
            #expect(listed.items.first?.detail == "the database was unreachable")
            #expect(try await system.broker.messageCount(queue: deadLetterQueue) == 2, "listing consumed nothing")

            #expect(try await system.clients.settleDeadLetters(of: .orderService, .case1(.init(eventIds: [eventId])), replay: true) == 1)
            try await expectEventually("replayed and applied") { try await system.clients.replicaCustomer(id: customer.id.lowercased) != nil }
            #expect(try await system.clients.deadLetters(of: .orderService, limit: 10).total == 1)

            // The same event once more: replayed, but the inbox applies it at most once.
            try await Self.deadLetter(body, eventId: eventId, reason: "processing-failed: again", in: deadLetterQueue, system)
            #expect(try await system.clients.settleDeadLetters(of: .orderService, .case2(.init(reason: "processing-failed")), replay: true) == 1)
            let counted = try await eventually {
                try await system.clients.replicationStatus(of: .orderService).consumer.duplicates == 1
            }
            #expect(counted)
            #expect(try await system.clients.replicationStatus(of: .orderService).consumer.processed == 1)

            #expect(try await system.clients.settleDeadLetters(of: .orderService, .case2(.init(reason: "invalid-json")), replay: false) == 1)
            #expect(try await system.clients.deadLetters(of: .orderService, limit: 10).total == 0)
            #expect(try await system.clients.replicationStatus(of: .orderService).consumer.deadLettered == 0)
        }
    }

    /// Puts `body` into `queue` as a dead letter with `reason` (`<code>: <detail>`).
    static func deadLetter(_ body: [UInt8], eventId: String?, reason: String, in queue: String, _ system: TestSystem) async throws {
        var properties = EventFixture.properties
        properties.messageID = eventId
        properties.type = "customer.created"
        properties.headers["x-dead-letter-reason"] = .string(reason)
        properties.headers["x-dead-lettered-at"] = .string(Timestamp.format(Date()))
        try await system.broker.publish(AMQPMessage(exchange: "", routingKey: queue, body: body, properties: properties, mandatory: true))
    }
}
