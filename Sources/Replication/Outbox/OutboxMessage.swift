import AMQP
import Contract
import Foundation
import Postgres

/// An outbox row, and the AMQP message it becomes.
struct OutboxMessage: Sendable {
    var sequence: Int64
    var eventId: UUID
    var type: String
    var exchange: String
    var data: String
    var headers: [String: String]
    var requestId: String?
    var createdAt: Date

    /// Creates a message from its parts (the relay's tests build messages without a database).
    init(
        sequence: Int64, eventId: UUID, type: String, exchange: String, data: String,
        headers: [String: String] = [:], requestId: String?, createdAt: Date
    ) {
        self.sequence = sequence
        self.eventId = eventId
        self.type = type
        self.exchange = exchange
        self.data = data
        self.headers = headers
        self.requestId = requestId
        self.createdAt = createdAt
    }

    /// Reads the columns `sequence, event_id, event_type, exchange, payload, headers::text, request_id, created_at`.
    init(row: PostgresRow) throws {
        sequence = try row.decode(0)
        eventId = try row.decode(1)
        type = try row.decode(2)
        exchange = try row.decode(3)
        data = try row.decode(4)
        let headersJSON: String = try row.decode(5)
        headers = (try? JSONDecoder().decode([String: String].self, from: Data(headersJSON.utf8))) ?? [:]
        requestId = try row.decode(6)
        createdAt = try row.decode(7)
    }

    /// The event's body: the contract's envelope with `data` spliced in as stored, so the
    /// record's bytes are exactly what the HTTP API returned.
    func body() throws -> [UInt8] {
        let envelope = EventEnvelope(
            eventId: eventId, type: type, occurredAt: createdAt, sequence: sequence, requestId: requestId, data: IgnoredPayload()
        )
        return try envelope.body(dataJSON: data.utf8)
    }

    /// The persistent message with the contract's properties and the `x-sequence` header;
    /// `userID` is the publishing connection's user (RabbitMQ checks it), when set.
    func amqpMessage(appID: String, userID: String? = nil) throws -> AMQPMessage {
        var table: AMQPTable = headers.mapValues { .string($0) }
        table["x-sequence"] = .int(sequence)
        let properties = AMQPProperties(
            contentType: "application/json",
            persistent: true,
            messageID: eventId.lowercased,
            type: type,
            timestamp: createdAt,
            appID: appID,
            userID: userID,
            correlationID: requestId,
            headers: table
        )
        // Mandatory: an event that no queue takes fails its batch instead of being marked published.
        return AMQPMessage(exchange: exchange, routingKey: "", body: try body(), properties: properties, mandatory: true)
    }
}
