import Foundation

/// The event types of the contract: `<entity>.<verb in past tense>`.
public enum EventType: String, Sendable, CaseIterable {
    /// A customer was created at CustomerService; `data` is a ``CustomerRecord``.
    case customerCreated = "customer.created"
    /// An order was created at OrderService; `data` is an ``OrderRecord``.
    case orderCreated = "order.created"
}

/// The body of every event message.
///
/// ```json
/// {"eventId": "…", "type": "customer.created", "occurredAt": "2026-11-21T18:00:00.123Z",
///  "sequence": 42, "requestId": "…", "data": { the record as the HTTP API returns it }}
/// ```
public struct EventEnvelope<Payload: Codable & Sendable>: Codable, Sendable {
    /// Unique per event; a consumer's inbox key.
    public var eventId: UUID
    /// One of ``EventType``'s raw values (kept as text so that unknown types can be reported).
    public var type: String
    /// When the source committed the change, to the millisecond.
    public var occurredAt: Date
    /// The outbox sequence number at the source.
    public var sequence: Int64
    /// The request id of the request that caused the event, if any.
    public var requestId: String?
    /// The record.
    public var data: Payload

    /// Creates an envelope.
    public init(eventId: UUID, type: String, occurredAt: Date, sequence: Int64, requestId: String?, data: Payload) {
        self.eventId = eventId
        self.type = type
        self.occurredAt = occurredAt
        self.sequence = sequence
        self.requestId = requestId
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case eventId, type, occurredAt, sequence, requestId, data
    }

    /// Decodes the contract's JSON, with errors that name the bad field.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventId = try container.decodeUUID(forKey: .eventId)
        type = try container.decode(String.self, forKey: .type)
        occurredAt = try container.decodeTimestamp(forKey: .occurredAt)
        sequence = try container.decode(Int64.self, forKey: .sequence)
        requestId = try container.decodeIfPresent(String.self, forKey: .requestId)
        data = try container.decode(Payload.self, forKey: .data)
    }

    /// Encodes the contract's JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventId.lowercased, forKey: .eventId)
        try container.encode(type, forKey: .type)
        try container.encode(Timestamp.format(occurredAt), forKey: .occurredAt)
        try container.encode(sequence, forKey: .sequence)
        try container.encodeIfPresent(requestId, forKey: .requestId)
        try container.encode(data, forKey: .data)
    }
}

/// Stands in for `data` when only the envelope's own fields are read (the type decides how to read `data`).
public struct IgnoredPayload: Codable, Sendable {
    /// Accepts any JSON value.
    public init(from decoder: any Decoder) throws {}
    /// Encodes nothing.
    public func encode(to encoder: any Encoder) throws {}
}
