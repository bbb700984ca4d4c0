import Contract

/// Why a message can never be processed; it goes to the dead-letter queue with this reason.
public struct PoisonMessage: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable short code, first in the `x-dead-letter-reason` header.
    public struct Reason: RawRepresentable, Hashable, Sendable {
        /// The code's text.
        public var rawValue: String
        /// Creates a reason from its code.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The body is not JSON.
        public static let invalidJSON = Reason(rawValue: "invalid-json")
        /// The envelope lacks a field or has one of the wrong kind.
        public static let invalidEnvelope = Reason(rawValue: "invalid-envelope")
        /// The event type is not one this consumer handles.
        public static let unknownType = Reason(rawValue: "unknown-type")
        /// The record in `data` fails the contract's validation.
        public static let invalidData = Reason(rawValue: "invalid-data")
        /// The body is larger than any event a service produces (``IncomingEvent/maximumSize``).
        public static let tooLarge = Reason(rawValue: "too-large")
        /// The message's validated `user_id` is not the broker user of the service that owns the events.
        public static let unauthenticatedPublisher = Reason(rawValue: "unauthenticated-publisher")
        /// Processing failed in a way that retrying did not mend.
        public static let processingFailed = Reason(rawValue: "processing-failed")
    }

    /// The code.
    public var reason: Reason
    /// What exactly was wrong.
    public var detail: String

    /// Creates a reason with its detail.
    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// The header's value: `code: detail`.
    public var description: String { "\(reason.rawValue): \(detail)" }
}
