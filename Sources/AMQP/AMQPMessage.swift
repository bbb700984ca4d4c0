/// A message to publish: where it goes, its body and its properties.
public struct AMQPMessage: Sendable {
    /// Exchange to publish to (`""` is the default exchange, which routes by queue name).
    public var exchange: String
    /// Routing key (ignored by fanout exchanges).
    public var routingKey: String
    /// The body bytes.
    public var body: [UInt8]
    /// Content type, persistence, ids, headers, ...
    public var properties: AMQPProperties
    /// Whether the broker must route the message to at least one queue: an unroutable mandatory
    /// message is returned (basic.return) and its publish fails with ``AMQPError/Code/unroutable``
    /// instead of being confirmed and dropped.
    public var mandatory: Bool

    /// Creates a message.
    public init(
        exchange: String, routingKey: String = "", body: [UInt8], properties: AMQPProperties = AMQPProperties(), mandatory: Bool = false
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}
