/// An error from the AMQP layer: what went wrong (``code``), a readable ``message`` and,
/// when the broker closed the channel or connection, its reply code.
///
/// Modelled on postgres-nio's and swift-service-lifecycle's error structs: match on
/// ``code`` (`error.code == .channelClosed`), show ``description`` to people.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure; a struct rather than an enum so that new codes are not a breaking change.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionRefused, authenticationFailed, accessRefused, channelClosed, connectionClosed
            case timeout, nacked, unroutable, blocked, invalidConfiguration, protocolError, shutdown, tlsFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The TCP connection could not be made (nothing listens, host unknown, network down).
        public static let connectionRefused = Code(.connectionRefused)
        /// The broker refused the user name or password (403 ACCESS_REFUSED during login).
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The broker refused the virtual host: it does not exist or the user has no permission on it.
        public static let accessRefused = Code(.accessRefused)
        /// The broker closed the channel (``AMQPError/replyCode`` says why, e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED).
        public static let channelClosed = Code(.channelClosed)
        /// The connection is gone: closed by the broker, by the peer's death (socket error, missed heartbeats) or by ``AMQPConnection/close()``.
        public static let connectionClosed = Code(.connectionClosed)
        /// An operation (connect, RPC, publisher confirm) did not finish in its configured time.
        public static let timeout = Code(.timeout)
        /// The broker answered a published message with basic.nack: it did not take responsibility for it.
        public static let nacked = Code(.nacked)
        /// A mandatory message reached no queue (basic.return with 312 NO_ROUTE): nobody would have received it.
        public static let unroutable = Code(.unroutable)
        /// The broker blocked the connection (connection.blocked: a memory or disk alarm) and takes no publishes until it lifts.
        public static let blocked = Code(.blocked)
        /// The TLS handshake of an `amqps://` connection failed: the broker's certificate did not
        /// verify (an unknown CA, a host name or address it does not carry, expired), the broker
        /// refused the client, or the port does not speak TLS; the message carries OpenSSL's reason.
        public static let tlsFailed = Code(.tlsFailed)
        /// The configuration (usually the URL) is not valid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The broker or the library broke the protocol, or rabbitmq-c failed unexpectedly.
        public static let protocolError = Code(.protocolError)
        /// The owning service is shutting down and takes no more work.
        public static let shutdown = Code(.shutdown)

        /// The code's name, e.g. `channelClosed`.
        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A readable explanation, including the broker's reply text when there is one.
    public var message: String
    /// The broker's reply code when it closed the channel or the connection (e.g. 406, 404, 320, 403, 530).
    public var replyCode: Int?

    /// Creates an error; library code builds these, tests and callers match on them.
    public init(_ code: Code, _ message: String, replyCode: Int? = nil) {
        self.code = code
        self.message = message
        self.replyCode = replyCode
    }

    /// `AMQPError(code): message (reply code N)`.
    public var description: String {
        if let replyCode {
            return "AMQPError(\(code)): \(message) (reply code \(replyCode))"
        }
        return "AMQPError(\(code)): \(message)"
    }

    /// Whether the connection that raised this error can no longer be used.
    var isConnectionFatal: Bool {
        ![.nacked, .unroutable, .blocked, .channelClosed, .invalidConfiguration].contains(code)
    }

    /// Whether the broker refused this one message (a basic.nack, or a channel closed with
    /// 406 PRECONDITION_FAILED, e.g. a message larger than its `max_message_size`): publishing
    /// the same message again will most likely fail the same way.
    public var isRefusal: Bool {
        code == .nacked || (code == .channelClosed && replyCode == 406)
    }
}
