import Foundation

/// The body of every event message.
///
/// ```json
/// {"eventId": "…", "type": "customer.created", "occurredAt": "2026-11-21T18:00:00.123Z",
///  "sequence": 42, "requestId": "…", "data": { the record as the HTTP API returns it }}
/// ```
///
/// Decoded with `JSONDecoder`; encoded only by ``body(dataJSON:)``, which the relay and the
/// tests share, so that every event body anywhere has the same bytes for the same event.
public struct EventEnvelope<Payload: Codable & Sendable>: Decodable, Sendable {
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

    /// The envelope's JSON with `dataJSON` as `data`, spliced in as it is: the record's bytes are
    /// exactly the ones its source stored and returned over HTTP.
    public func body(dataJSON: some Sequence<UInt8>) throws -> [UInt8] {
        let json = JSONString.quoted
        var head = "{\"eventId\":\(json(eventId.lowercased)),\"type\":\(json(type))"
        head += ",\"occurredAt\":\(json(Timestamp.format(occurredAt))),\"sequence\":\(sequence)"
        if let requestId { head += ",\"requestId\":\(json(requestId))" }
        head += ",\"data\":"
        var body = Array(head.utf8)
        body.append(contentsOf: dataJSON)
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// The envelope's JSON, with `data` encoded by `JSONEncoder`.
    public func body() throws -> [UInt8] {
        try body(dataJSON: JSONEncoder().encode(data))
    }
}
