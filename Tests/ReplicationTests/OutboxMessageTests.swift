import AMQP
import Contract
import Foundation
import Testing

@testable import Replication

/// The AMQP message the relay makes of an outbox row, built without a database.
@Suite("Outbox message")
struct OutboxMessageTests {
    static let eventID = UUID(uuidString: "DEADBEEF-0000-4000-8000-00000000CAFE")!
    static let createdAt = Date(timeIntervalSince1970: 1_795_284_000.123)

    func message(requestId: String? = "req-\"1\"", data: String = #"{"id":"x","name":"Zoë \"Z\" \\ ✓"}"#) -> OutboxMessage {
        OutboxMessage(
            sequence: 42, eventId: Self.eventID, type: "customer.created", exchange: "customer.events", data: data,
            headers: ["traceparent": "00-abc-def-01"], requestId: requestId, createdAt: Self.createdAt
        )
    }

    @Test("the body is the contract's envelope with the stored data spliced in byte for byte")
    func body() throws {
        let data = #"{"id":"x","name":"Zoë \"Z\" \\ ✓"}"#
        let body = try message(data: data).body()
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.hasSuffix(",\"data\":" + data + "}"), "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["eventId"] as? String == "deadbeef-0000-4000-8000-00000000cafe")
        #expect(json["type"] as? String == "customer.created")
        #expect(json["occurredAt"] as? String == "2026-11-21T18:00:00.123Z")
        #expect(json["sequence"] as? Int == 42)
        #expect(json["requestId"] as? String == "req-\"1\"")
        let decoded = try JSONDecoder().decode(EventEnvelope<IgnoredPayload>.self, from: Data(body))
        #expect(decoded.eventId == Self.eventID)
    }

    @Test("without a request id the member is left out")
    func noRequestID() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try message(requestId: nil).body())) as? [String: Any])
        #expect(json["requestId"] == nil)
    }

    @Test("the message is persistent JSON with the contract's properties and the x-sequence header")
    func properties() throws {
        let message = try message().amqpMessage(appID: "customer-service")
        #expect(message.exchange == "customer.events")
        #expect(message.routingKey == "")
        let properties = message.properties
        #expect(properties.contentType == "application/json")
        #expect(properties.persistent)
        #expect(properties.messageID == "deadbeef-0000-4000-8000-00000000cafe")
        #expect(properties.type == "customer.created")
        #expect(properties.appID == "customer-service")
        #expect(properties.correlationID == "req-\"1\"")
        #expect(properties.headers["x-sequence"] == .int(42))
        #expect(properties.headers["traceparent"] == .string("00-abc-def-01"))
    }
}
