/// Exchanges, queues and bindings that a connection declares (idempotently) every time it connects.
public struct AMQPTopology: Sendable {
    /// An exchange to declare.
    public struct Exchange: Sendable, Hashable {
        /// Exchange kinds this project uses.
        public enum Kind: String, Sendable, Hashable {
            /// Copies every message to every bound queue.
            case fanout
            /// Routes by exact routing key.
            case direct
            /// Routes by routing-key pattern.
            case topic
        }

        /// Exchange name.
        public var name: String
        /// Routing behaviour.
        public var kind: Kind
        /// Whether the exchange survives a broker restart.
        public var durable: Bool

        /// Creates an exchange description.
        public init(name: String, kind: Kind, durable: Bool = true) {
            self.name = name
            self.kind = kind
            self.durable = durable
        }
    }

    /// A queue to declare.
    public struct Queue: Sendable, Hashable {
        /// Queue name.
        public var name: String
        /// Whether the queue survives a broker restart (quorum queues must be durable).
        public var durable: Bool
        /// Queue arguments (`x-queue-type`, `x-dead-letter-exchange`, ...).
        public var arguments: AMQPTable
        /// Whether a queue that exists with other arguments is kept as it is (checked to exist,
        /// with a warning) instead of failing the declaration with 406: for an argument whose
        /// default may change (`x-delivery-limit`) while the queue, which cannot change, holds messages.
        public var keepsExistingArguments: Bool

        /// Creates a queue description.
        public init(name: String, durable: Bool = true, arguments: AMQPTable = [:], keepsExistingArguments: Bool = false) {
            self.name = name
            self.durable = durable
            self.arguments = arguments
            self.keepsExistingArguments = keepsExistingArguments
        }

        /// A durable quorum queue (`x-queue-type: quorum`), optionally dead-lettering to an exchange.
        ///
        /// - Parameters:
        ///   - deadLetterExchange: `x-dead-letter-exchange`: where rejected messages (and those over the delivery limit) go.
        ///   - deadLetterRoutingKey: `x-dead-letter-routing-key`: the routing key they get there.
        ///   - deliveryLimit: `x-delivery-limit`: after this many redeliveries a message is dead-lettered instead of requeued.
        ///   - keepsExistingArguments: see ``keepsExistingArguments``.
        public static func quorum(
            name: String, deadLetterExchange: String? = nil, deadLetterRoutingKey: String? = nil, deliveryLimit: Int? = nil,
            keepsExistingArguments: Bool = false
        ) -> Queue {
            var arguments: AMQPTable = ["x-queue-type": .string("quorum")]
            if let deadLetterExchange { arguments["x-dead-letter-exchange"] = .string(deadLetterExchange) }
            if let deadLetterRoutingKey { arguments["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
            if let deliveryLimit { arguments["x-delivery-limit"] = .int(Int64(deliveryLimit)) }
            return Queue(name: name, durable: true, arguments: arguments, keepsExistingArguments: keepsExistingArguments)
        }
    }

    /// A binding of a queue to an exchange.
    public struct Binding: Sendable, Hashable {
        /// The bound queue.
        public var queue: String
        /// The source exchange.
        public var exchange: String
        /// Binding key (ignored by fanout exchanges).
        public var routingKey: String

        /// Creates a binding description.
        public init(queue: String, exchange: String, routingKey: String = "") {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    /// Exchanges, declared first.
    public var exchanges: [Exchange]
    /// Queues, declared second.
    public var queues: [Queue]
    /// Bindings, declared last.
    public var bindings: [Binding]

    /// Creates a topology; an empty one declares nothing.
    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }
}
