import Foundation

/// The AMQP basic properties of a message (the content header), as this project uses them.
public struct AMQPProperties: Sendable, Hashable {
    /// MIME type of the body, e.g. `application/json`.
    public var contentType: String?
    /// Encoding of the body, e.g. `gzip`.
    public var contentEncoding: String?
    /// `true` for delivery mode 2 (persistent: written to disk, survives a broker restart); `false` for mode 1 or unset.
    public var persistent: Bool
    /// Application message id (here: the event id).
    public var messageID: String?
    /// Application message type (here: the event type, e.g. `customer.created`).
    public var type: String?
    /// Creation time; AMQP carries whole seconds, so fractions are dropped on the wire.
    public var timestamp: Date?
    /// Id of the publishing application, e.g. `customer-service`.
    public var appID: String?
    /// The publishing connection's user name. RabbitMQ refuses a message whose `user_id` is not the
    /// user of the connection that publishes it, so a consumer can trust it.
    public var userID: String?
    /// Correlation id (here: the request id).
    public var correlationID: String?
    /// Address to reply to.
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a string (AMQP's own format).
    public var expiration: String?
    /// Priority 0...9.
    public var priority: UInt8?
    /// Application headers.
    public var headers: AMQPTable

    /// Creates properties; everything is optional, and messages are persistent unless told otherwise.
    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        persistent: Bool = true,
        messageID: String? = nil,
        type: String? = nil,
        timestamp: Date? = nil,
        appID: String? = nil,
        userID: String? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        priority: UInt8? = nil,
        headers: AMQPTable = [:]
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.persistent = persistent
        self.messageID = messageID
        self.type = type
        self.timestamp = timestamp
        self.appID = appID
        self.userID = userID
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.priority = priority
        self.headers = headers
    }
}
