import AMQP
import Contract
import Foundation
import Postgres
import Testing

@testable import Replication

/// The outbox row is written in the transaction of the change it describes, and
/// becomes the contract's AMQP message.
@Suite("Outbox")
struct OutboxTests {
    struct ChangeFailed: Error {}

    @Test("an event appended in a transaction that then throws leaves no outbox row")
    func rollbackLeavesNothing() async throws {
        try await withTestDatabase { database, _ in
            await #expect(throws: ChangeFailed.self) {
                try await database.withTransaction { connection in
                    let event = OutboxEvent(type: "customer.created", exchange: "customer.events", data: "{}", requestId: "req-1")
                    let sequence = try await Outbox.append(event, on: connection)
                    #expect(sequence > 0)
                    throw ChangeFailed()
                }
            }
            let rows = try await database.query("SELECT count(*) FROM outbox")[0].decode(0, as: Int64.self)
            #expect(rows == 0)
            let backlog = try await OutboxBacklog.read(from: database)
            #expect(backlog.pending == 0 && backlog.oldestPendingAgeMs == 0 && backlog.lastPublishedSequence == 0)
        }
    }

    @Test("an appended event commits with its change, pending, with increasing sequence numbers")
    func appendCommits() async throws {
        try await withTestDatabase { database, _ in
            let eventID = UUID()
            let (first, second) = try await database.withTransaction { connection in
                let first = try await Outbox.append(
                    OutboxEvent(eventId: eventID, type: "customer.created", exchange: "customer.events", data: #"{"a": 1}"#, requestId: "req-1"),
                    on: connection
                )
                let second = try await Outbox.append(
                    OutboxEvent(type: "customer.created", exchange: "customer.events", data: "{}", requestId: nil),
                    on: connection
                )
                return (first, second)
            }
            #expect(second > first)
            let row = try await database.query(
                "SELECT event_id, event_type, exchange, payload, request_id, published_at IS NULL FROM outbox WHERE sequence = $1",
                [first]
            )[0]
            #expect(try row.decode(0, as: UUID.self) == eventID)
            #expect(try row.decode(1, as: String.self) == "customer.created")
            #expect(try row.decode(2, as: String.self) == "customer.events")
            #expect(try row.decode(3, as: String.self) == #"{"a": 1}"#)
            #expect(try row.decode(4, as: String?.self) == "req-1")
            #expect(try row.decode(5, as: Bool.self))
            let backlog = try await OutboxBacklog.read(from: database)
            #expect(backlog.pending == 2)
            #expect(backlog.lastPublishedSequence == 0)
            #expect(backlog.oldestPendingAgeMs >= 0)
        }
    }

    @Test("a second event with the same id is refused, so an event cannot be published twice under one id")
    func duplicateEventID() async throws {
        try await withTestDatabase { database, _ in
            let event = OutboxEvent(type: "customer.created", exchange: "customer.events", data: "{}", requestId: nil)
            _ = try await database.withConnection { try await Outbox.append(event, on: $0) }
            let error = try await #require(throws: PostgresError.self) {
                _ = try await database.withConnection { try await Outbox.append(event, on: $0) }
            }
            #expect(error.isUniqueViolation)
        }
    }

    /// An outbox row as the relay reads it, made from literals (a `PostgresRow` only comes from a query).
    func outboxRow(
        _ database: PostgresClient,
        sequence: Int64, eventID: UUID, data: String, headers: String, requestID: String?, createdAt: Date
    ) async throws -> OutboxMessage {
        let result = try await database.query(
            "SELECT $1::bigint, $2::uuid, $3::text, $4::text, $5::text, $6::jsonb::text, $7::text, $8::timestamptz",
            [sequence, eventID, "customer.created", "t.customer.events", data, headers, requestID, createdAt]
        )
        return try OutboxMessage(row: result[0])
    }

    @Test("an outbox row becomes a persistent message with the contract's properties and x-sequence")
    func amqpMessage() async throws {
        try await withTestDatabase(migrate: false) { database, _ in
            let eventID = try #require(UUID(uuidString: "8D0D8A6E-3C43-4F5E-9D7E-2B0F3B6A1C11"))
            let createdAt = Date(timeIntervalSince1970: 1_795_284_000.123)
            let data = #"{"id": "x",   "name":"Ada", "nested": {"z": [1, 2.50, "\u00e9"]}}"#
            let row = try await outboxRow(
                database, sequence: 42, eventID: eventID, data: data,
                headers: #"{"x-trace": "abc"}"#, requestID: "req-7", createdAt: createdAt
            )
            let message = try row.amqpMessage(appID: "customer-service")

            #expect(message.exchange == "t.customer.events")
            #expect(message.routingKey == "")
            let body = String(decoding: message.body, as: UTF8.self)
            #expect(
                body
                    == #"{"eventId":"8d0d8a6e-3c43-4f5e-9d7e-2b0f3b6a1c11","type":"customer.created","occurredAt":"2026-11-21T18:00:00.123Z","sequence":42,"requestId":"req-7","data":"#
                    + data + "}")

            let properties = message.properties
            #expect(properties.contentType == "application/json")
            #expect(properties.persistent)
            #expect(properties.messageID == "8d0d8a6e-3c43-4f5e-9d7e-2b0f3b6a1c11")
            #expect(properties.type == "customer.created")
            #expect(properties.appID == "customer-service")
            #expect(properties.correlationID == "req-7")
            #expect(properties.timestamp.map(Timestamp.format) == "2026-11-21T18:00:00.123Z")
            #expect(properties.headers["x-sequence"] == .int(42))
            #expect(properties.headers["x-trace"] == .string("abc"))
        }
    }

    @Test("the body is valid JSON whatever the request id holds, and leaves out a missing request id")
    func bodyEscaping() async throws {
        try await withTestDatabase(migrate: false) { database, _ in
            let awkward = "a\"b\\c/d\u{1}é🙂"
            let eventID = UUID()
            let withID = try await outboxRow(
                database, sequence: 7, eventID: eventID, data: #"{"amount":1}"#, headers: "{}", requestID: awkward, createdAt: Date()
            ).amqpMessage(appID: "order-service")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(withID.body)) as? [String: Any])
            #expect(json["requestId"] as? String == awkward)
            #expect(json["eventId"] as? String == eventID.lowercased)
            #expect((json["data"] as? [String: Any])?["amount"] as? Int == 1)
            #expect(withID.properties.correlationID == awkward)

            let withoutID = try await outboxRow(
                database, sequence: 8, eventID: UUID(), data: "{}", headers: "{}", requestID: nil, createdAt: Date()
            ).amqpMessage(appID: "order-service")
            let bare = try #require(try JSONSerialization.jsonObject(with: Data(withoutID.body)) as? [String: Any])
            #expect(bare["requestId"] == nil)
            #expect(bare["sequence"] as? Int == 8)
            #expect(withoutID.properties.correlationID == nil)
            #expect(withoutID.properties.headers == ["x-sequence": .int(8)])
            let envelope = try JSONDecoder().decode(EventEnvelope<IgnoredPayload>.self, from: Data(withoutID.body))
            #expect(envelope.sequence == 8)
        }
    }
}
