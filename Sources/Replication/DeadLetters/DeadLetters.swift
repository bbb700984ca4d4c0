import AMQP
import Contract
import Foundation
import Logging
import Synchronization

/// A message in a service's dead-letter queue, as `GET /replication/dead-letters` lists it.
public struct DeadLetter: Sendable, Hashable {
    /// The event id (`message_id`), when it has one.
    public var eventId: String?
    /// The event type (`type`).
    public var type: String?
    /// The request that caused the event (`correlation_id`).
    public var requestId: String?
    /// The reason's code (`invalid-data`, …; `delivery-limit` when the broker moved it after too many deliveries).
    public var reason: String
    /// What was wrong, in words.
    public var detail: String?
    /// When it was dead-lettered, if known.
    public var at: Date?
    /// The body, as text (it may not be JSON: that can be why it is here).
    public var body: String
}

/// What a replay or a discard did.
public struct DeadLetterSettlement: Sendable, Hashable {
    /// The dead letters replayed or discarded.
    public var count: Int
    /// The dead letters looked at and left in the queue: not selected, or not replayable.
    public var skipped: Int
}

/// Why a dead-letter operation did not run.
public enum DeadLetterError: Error, Sendable, Hashable {
    /// Another replay or discard of this queue is running in this process.
    case busy(queue: String)
}

/// Which dead letters a replay or a discard takes.
public enum DeadLetterSelection: Sendable, Hashable {
    /// The messages with these event ids.
    case eventIds(Set<String>)
    /// The messages whose reason's code is this one.
    case reason(String)
    /// Every message.
    case all

    func matches(_ letter: DeadLetter) -> Bool {
        switch self {
        case .eventIds(let ids): letter.eventId.map(ids.contains) ?? false
        case .reason(let reason): letter.reason == reason
        case .all: true
        }
    }
}

/// A service's dead-letter queue as the store of its dead letters (docs/design.md#dead-letters): listed without
/// consuming them, replayed into the service's queue, or discarded.
///
/// Each operation uses a connection of its own and `basic.get`: the messages it takes and does
/// not settle (ack) return to the queue, in their order, when it closes the connection. A
/// replayed event is published to the service's own queue (the default exchange, confirmed)
/// under the service's own user, the original publisher in `x-original-user-id`: RabbitMQ
/// validates `user_id`, and the consumer accepts that pair only from itself. It is applied at
/// most once, through the inbox. A replay that fails again is dead-lettered with the same
/// original publisher, however many times it goes round.
public struct DeadLetters: Sendable {
    /// The service's queue and its dead-letter queue.
    public var queue: String
    public var deadLetterQueue: String
    public let amqp: AMQPConfiguration
    public let logger: Logger
    /// Set while a replay or a discard runs: one at a time, so two cannot take the same messages.
    private let settling = Lock()
    /// Set while ``listIfIdle(limit:byteBudget:)`` reads.
    private let reading = Lock()

    public init(queue: String, deadLetterQueue: String, amqp: AMQPConfiguration, logger: Logger) {
        self.queue = queue
        self.deadLetterQueue = deadLetterQueue
        self.amqp = amqp
        self.logger = logger
    }

    /// A flag shared by the copies of one ``DeadLetters``.
    private final class Lock: Sendable {
        let held = Mutex(false)
    }

    /// The first `limit` dead letters, oldest first, left in the queue; no more than
    /// `byteBudget` bytes of bodies are read (the listing stops at the letter that passes it).
    public func list(limit: Int, byteBudget: Int = .max) async throws -> (letters: [DeadLetter], total: Int) {
        try await withConnection { connection in
            let total = try await connection.messageCount(queue: deadLetterQueue)
            var letters: [DeadLetter] = []
            var bytes = 0
            while letters.count < min(limit, total), bytes < byteBudget, let delivery = try await connection.get(queue: deadLetterQueue) {
                bytes += delivery.body.count
                letters.append(Self.letter(delivery))
            }
            return (letters, total)
        }
    }

    /// ``list(limit:byteBudget:)`` unless another such reading runs in this process: then nil,
    /// at once. For a caller that must not open more than one connection at a time (`/trace`).
    public func listIfIdle(limit: Int, byteBudget: Int) async throws -> (letters: [DeadLetter], total: Int)? {
        guard
            reading.held.withLock({ held in
                defer { held = true }
                return !held
            })
        else { return nil }
        defer { reading.held.withLock { $0 = false } }
        return try await list(limit: limit, byteBudget: byteBudget)
    }

    /// Publishes the selected dead letters back into the service's queue and removes them.
    /// Throws ``DeadLetterError/busy(queue:)`` while another replay or discard runs.
    ///
    /// A letter whose reason is `unauthenticated-publisher` is never replayed (it stays, counted
    /// in ``DeadLetterSettlement/skipped``): its publisher was not the peer. Each replay says who
    /// published the event first (``replayProperties(_:reason:ownUser:deadLetterQueue:)``).
    public func replay(_ selection: DeadLetterSelection) async throws -> DeadLetterSettlement {
        try await settle(selection) { delivery, connection in
            guard
                let properties = Self.replayProperties(
                    delivery.properties, reason: Self.letter(delivery).reason, ownUser: amqp.user, deadLetterQueue: deadLetterQueue)
            else { return false }
            try await connection.publish(
                AMQPMessage(exchange: "", routingKey: queue, body: delivery.body, properties: properties, mandatory: true))
            return true
        }
    }

    /// The properties a dead letter (its `properties`, its reason's code) is replayed with, or nil
    /// when it must not be replayed.
    ///
    /// The replay goes out under `ownUser` (RabbitMQ validates it), with the original publisher
    /// in `x-original-user-id` and `x-replayed-from` set; the consumer accepts the pair from its
    /// own user only. The original publisher is what the broker validated, never what a
    /// publisher wrote: a letter whose `user_id` is `ownUser` was written by this service
    /// (its consumer's dead-lettering, or a replay of its own that the broker dead-lettered), so
    /// its `x-original-user-id` is trusted; any other letter (dead-lettered by the broker after
    /// its delivery limit, or published into the dead-letter exchange directly) gives its own
    /// `user_id`, and one without `user_id` gives none: its replay is refused again as
    /// `unauthenticated-publisher`. A letter with that reason is not replayed at all (nil).
    static func replayProperties(_ properties: AMQPProperties, reason: String, ownUser: String, deadLetterQueue: String) -> AMQPProperties? {
        if reason == PoisonMessage.Reason.unauthenticatedPublisher.rawValue { return nil }
        var properties = properties
        let original =
            properties.userID == ownUser ? properties.headers["x-original-user-id"]?.stringValue : properties.userID
        properties.headers["x-original-user-id"] = original.map { .string($0) }
        properties.userID = ownUser
        properties.headers["x-replayed-from"] = .string(deadLetterQueue)
        return properties
    }

    /// Removes the selected dead letters.
    /// Throws ``DeadLetterError/busy(queue:)`` while another replay or discard runs.
    public func discard(_ selection: DeadLetterSelection) async throws -> DeadLetterSettlement {
        try await settle(selection) { _, _ in true }
    }

    /// Takes each message in the queue once; for those `selection` matches runs `body` and acks
    /// them, unless `body` answers false (then the message stays, skipped).
    private func settle(
        _ selection: DeadLetterSelection, _ body: (AMQPDelivery, AMQPConnection) async throws -> Bool
    ) async throws -> DeadLetterSettlement {
        guard
            settling.held.withLock({ held in
                defer { held = true }
                return !held
            })
        else { throw DeadLetterError.busy(queue: deadLetterQueue) }
        defer { settling.held.withLock { $0 = false } }
        return try await withConnection { connection in
            let total = try await connection.messageCount(queue: deadLetterQueue)
            var settled = 0
            var taken = 0
            while taken < total, let delivery = try await connection.get(queue: deadLetterQueue) {
                taken += 1
                let letter = Self.letter(delivery)
                guard selection.matches(letter) else { continue }
                guard try await body(delivery, connection) else { continue }
                try await delivery.ack()
                settled += 1
                logger.info(
                    "dead letter settled",
                    metadata: ["event.id": "\(letter.eventId ?? "-")", "reason": "\(letter.reason)", "queue": "\(deadLetterQueue)"])
            }
            return DeadLetterSettlement(count: settled, skipped: taken - settled)
        }
    }

    private func withConnection<T: Sendable>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The listing of one delivery: the consumer's `x-dead-letter-reason` (`<code>: <detail>`), or the broker's `x-death`.
    static func letter(_ delivery: AMQPDelivery) -> DeadLetter {
        let headers = delivery.properties.headers
        var reason = "unknown"
        var detail: String?
        if let text = headers["x-dead-letter-reason"]?.stringValue {
            let parts = text.split(separator: ":", maxSplits: 1)
            reason = String(parts[0]).trimmingCharacters(in: .whitespaces)
            detail = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : nil
        } else if let first = headers["x-first-death-reason"]?.stringValue {
            reason = first == "delivery_limit" ? "delivery-limit" : first
            detail = "dead-lettered by the broker (\(first))"
        }
        let at = headers["x-dead-lettered-at"]?.stringValue.flatMap(Timestamp.parse)
        return DeadLetter(
            eventId: delivery.properties.messageID, type: delivery.properties.type, requestId: delivery.properties.correlationID,
            reason: reason, detail: detail, at: at,
            body: String(decoding: delivery.body, as: UTF8.self))
    }
}
