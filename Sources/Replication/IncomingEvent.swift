import AMQP
import Contract
import Foundation

/// A delivered event whose envelope is valid; `data` is still raw, for the handler of its type.
public struct IncomingEvent: Sendable {
    /// The envelope's fields (`data` is not decoded yet).
    public var envelope: EventEnvelope<IgnoredPayload>
    /// The whole body, for decoding `data` as the handler's record type.
    public var body: Data

    /// Parses `body`; throws ``PoisonMessage`` (`invalid-json`, `invalid-envelope`) when it cannot.
    public init(body: [UInt8]) throws(PoisonMessage) {
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
        guard envelope.type == type.rawValue else {
            throw PoisonMessage(.unknownType, "\(envelope.type) is not \(type.rawValue)")
        }
        let record = try decodeData(as: recordType)
        let invalid = invalidFields(record)
        guard invalid.isEmpty else { throw PoisonMessage(.invalidData, invalid.summary) }
        return record
    }

    /// Decodes `data` as `Record`; throws ``PoisonMessage`` (`invalid-data`) when it does not fit.
    public func decodeData<Record: Codable & Sendable>(as: Record.Type) throws(PoisonMessage) -> Record {
        do {
            return try JSONDecoder().decode(EventEnvelope<Record>.self, from: body).data
        } catch {
            throw PoisonMessage(.invalidData, DecodingFailure(error).description)
        }
    }
}

/// A `DecodingError` said in one line that names the field (`data.amount: expected Int64`).
public struct DecodingFailure: CustomStringConvertible, Sendable {
    /// The dotted path of the field (empty for the top level).
    public var field: String
    /// What was wrong with it.
    public var reason: String

    /// Describes `error`, or just its text when it is not a `DecodingError`.
    public init(_ error: any Error) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context):
            field = path(context.codingPath + [key])
            reason = "is required"
        case .typeMismatch(let type, let context):
            field = path(context.codingPath)
            reason = "must be \(Self.name(of: type))"
        case .valueNotFound(let type, let context):
            field = path(context.codingPath)
            reason = "must be \(Self.name(of: type)), not null"
        case .dataCorrupted(let context):
            field = path(context.codingPath)
            reason = context.debugDescription
        case nil:
            field = ""
            reason = "\(error)"
        @unknown default:
            field = ""
            reason = "\(error)"
        }
    }

    /// `field: reason`, or the reason alone at the top level.
    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int64.Type, is Int.Type, is Int32.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default: "\(type)"
        }
    }
}
