import Contract
import Foundation

/// An event to be published, as a service hands it to ``Outbox/append(_:on:)``
/// inside the transaction that makes the change it describes.
public struct OutboxEvent: Sendable {
    /// The event's id (the message id, and the consumers' inbox key).
    public var eventId: UUID
    /// The contract's event type, e.g. `customer.created`.
    public var type: String
    /// The fanout exchange it goes to.
    public var exchange: String
    /// The JSON of the record (the envelope's `data`), exactly as the HTTP API returns it.
    public var data: String
    /// The request id of the request that caused it.
    public var requestId: String?
    /// AMQP headers the message carries besides the contract's (`traceparent`).
    public var headers: [String: String]

    /// Creates an event with a new random id.
    public init(
        eventId: UUID = TimeOrderedUUID.make(), type: String, exchange: String, data: String, requestId: String?, headers: [String: String] = [:]
    ) {
        self.headers = headers
        self.eventId = eventId
        self.type = type
        self.exchange = exchange
        self.data = data
        self.requestId = requestId
    }
}
