import AMQP
import Contract
import Foundation

/// A delivered event whose envelope is valid; `data` is still raw, for the handler of its type.
public struct IncomingEvent: Sendable {
    /// The envelope's fields (`data` is not decoded yet).
    public var envelope: EventEnvelope<IgnoredPayload>
    /// The whole body, for decoding `data` as the handler's record type.
    public var body: Data
    /// Whether the event is a repair's snapshot that overwrites the replica's row at any version.
    /// The consumer sets it only for a snapshot marked `x-repair: overwrite` (``repairHeader``)
    /// whose `user_id` is the accepted publisher's, as RabbitMQ validated it (never for a replay).
    public var overwrites = false

    /// The epoch of the source database the event comes from (``ReplicationSchema/epochHeader``;
    /// 1 when the delivery has none). Set by the consumer from the delivery's headers.
    public var epoch: Int64 = 1

    /// The AMQP header that marks a repair's snapshot, and its value that asks for an overwrite.
    public static let repairHeader = "x-repair"
    /// The value of ``repairHeader`` that asks for an overwrite.
    public static let overwrite = "overwrite"

    /// The largest body an event may have: far above any record a service produces (its text
    /// fields are a few hundred Unicode scalars), and the same as the HTTP body limit. A larger one
    /// is dead-lettered as `too-large` before it is parsed. (What a consumer loads at all is
    /// bounded by the broker's `max_message_size`.)
    public static let maximumSize = 64 * 1024

    /// Parses `body`; throws ``PoisonMessage`` (`too-large`, `invalid-json`, `invalid-envelope`) when it cannot.
    public init(body: [UInt8]) throws(PoisonMessage) {
        guard body.count <= Self.maximumSize else {
            throw PoisonMessage(.tooLarge, "the body is \(body.count) bytes; an event is at most \(Self.maximumSize)")
        }
        let data = Data(body)
        do {
            envelope = try JSONDecoder().decode(EventEnvelope<IgnoredPayload>.self, from: data)
        } catch {
            let context: DecodingError.Context? =
                switch error as? DecodingError {
                case .dataCorrupted(let context)?, .typeMismatch(_, let context)?, .valueNotFound(_, let context)?: context
                default: nil
                }
            if let context, context.codingPath.isEmpty {
                // Not JSON at all (or not UTF-8), or JSON whose top level is not an object.
                throw PoisonMessage(.invalidJSON, "the body is not a JSON object")
            }
            throw PoisonMessage(.invalidEnvelope, DecodingFailure(error).description)
        }
        self.body = data
    }

    /// The record of an event that must be of `type`, checked: throws ``PoisonMessage`` with
    /// `unknown-type` for another type, and `invalid-data` when `data` does not decode as `Record`
    /// or `invalidFields` names any field (the contract's rules, with fields prefixed `data.`).
    public func record<Record: Codable & Sendable>(
        of type: EventType,
        as recordType: Record.Type,
        invalidFields: (Record) -> [InvalidParameter]
    ) throws(PoisonMessage) -> Record {
        try record(of: [type], as: recordType, invalidFields: invalidFields)
    }

    /// The record of an event that must be of one of `types`, checked as ``record(of:as:invalidFields:)-(EventType,_,_)`` does.
    public func record<Record: Codable & Sendable>(
        of types: Set<EventType>,
        as recordType: Record.Type,
        invalidFields: (Record) -> [InvalidParameter]
    ) throws(PoisonMessage) -> Record {
        guard let type = EventType(rawValue: envelope.type), types.contains(type) else {
            throw PoisonMessage(.unknownType, "\(envelope.type) is not one of \(types.map(\.rawValue).sorted())")
        }
        let record = try decodeData(as: recordType)
        let invalid = invalidFields(record)
        guard invalid.isEmpty else { throw PoisonMessage(.invalidData, invalid.summary) }
        return record
    }

    /// Whether `data` is a tombstone (it has `deletedAt`), as a snapshot of a deleted record is.
    public var dataIsTombstone: Bool {
        struct Shape: Decodable {
            struct Data: Decodable { var deletedAt: String? }
            var data: Data
        }
        return (try? JSONDecoder().decode(Shape.self, from: body))?.data.deletedAt != nil
    }

    /// Decodes `data` as `Record`; throws ``PoisonMessage`` (`invalid-data`) when it does not fit.
    /// The envelope's own fields were checked when the event was read, so they are not decoded again.
    public func decodeData<Record: Codable & Sendable>(as: Record.Type) throws(PoisonMessage) -> Record {
        do {
            return try JSONDecoder().decode(EventData<Record>.self, from: body).data
        } catch {
            throw PoisonMessage(.invalidData, DecodingFailure(error).description)
        }
    }
}

/// An event's body with only its `data` decoded.
private struct EventData<Record: Decodable>: Decodable {
    var data: Record
}
