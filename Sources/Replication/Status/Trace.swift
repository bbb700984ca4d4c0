import Contract
import Foundation
import Postgres

/// One thing a service did for a request (docs/design.md#trace).
public struct TraceHop: Sendable, Hashable {
    /// What happened.
    public enum Step: String, Sendable {
        /// The change and its event committed (the outbox row was written).
        case committed
        /// The broker confirmed the event.
        case published
        /// The event changed the replica.
        case applied
        /// The event changed nothing: a duplicate, or not newer than the replica's version.
        case ignored
        /// The event went to the dead-letter queue.
        case deadLettered = "dead-lettered"
    }

    public var at: Date
    public var service: String
    public var step: Step
    /// `customer` or `order`, from the event type.
    public var entity: String?
    public var id: UUID?
    public var version: Int64?
    public var eventId: String?
    public var detail: String?
}

/// The hops of a request, and what could not be read.
public struct TraceReading: Sendable {
    /// In time order.
    public var hops: [TraceHop]
    /// Why the hops may be incomplete (the dead-letter queue could not be read), or nil.
    public var incomplete: String?
}

/// What a service did for one request, from what it stores anyway: its outbox (committed,
/// published), its inbox (applied or ignored, with the request id of the event) and its
/// dead-letter queue (the first 1000 messages, at most 1 MiB of bodies, one reading at a time).
public struct Trace: Sendable {
    let service: String
    let database: PostgresClient
    let deadLetters: DeadLetters

    public init(service: String, database: PostgresClient, deadLetters: DeadLetters) {
        self.service = service
        self.database = database
        self.deadLetters = deadLetters
    }

    /// The hops of request `requestId`, in time order; empty when the service knows nothing of it.
    /// When the dead-letter queue cannot be read (the broker is down, or another trace reads
    /// it), the outbox and inbox hops come back with the reason in ``TraceReading/incomplete``.
    public func hops(of requestId: String) async throws -> TraceReading {
        var hops: [TraceHop] = []
        let outbox = try await database.query(
            """
            SELECT event_id, event_type, created_at, published_at, (payload::jsonb ->> 'id')::uuid, (payload::jsonb ->> 'version')::bigint,
                   parked_at IS NOT NULL, last_error
            FROM outbox WHERE request_id = $1 ORDER BY sequence LIMIT 1000
            """,
            [requestId])
        for row in outbox {
            let eventId: UUID = try row.decode(0)
            let type: String = try row.decode(1)
            let parked: Bool = try row.decode(6)
            var hop = TraceHop(
                at: try row.decode(2), service: service, step: .committed, entity: Self.entity(of: type), id: try row.decode(4),
                version: try row.decode(5), eventId: eventId.lowercased,
                detail: parked ? "\(type); parked: the broker refused it (\(try row.decode(7, as: String?.self) ?? "no reason"))" : type)
            hops.append(hop)
            if let published: Date = try row.decode(3) {
                hop.at = published
                hop.step = .published
                hop.detail = type
                hops.append(hop)
            }
        }
        let inbox = try await database.query(
            """
            SELECT event_id, event_type, processed_at, outcome, record_id, version
            FROM inbox WHERE request_id = $1 ORDER BY processed_at LIMIT 1000
            """,
            [requestId])
        for row in inbox {
            let eventId: UUID = try row.decode(0)
            let type: String = try row.decode(1)
            let applied = try row.decode(3, as: String.self) == "applied"
            hops.append(
                TraceHop(
                    at: try row.decode(2), service: service, step: applied ? .applied : .ignored, entity: Self.entity(of: type),
                    id: try row.decode(4), version: try row.decode(5), eventId: eventId.lowercased,
                    detail: applied ? type : "\(type): the replica already had this version or a newer one"))
        }
        var incomplete: String?
        do {
            if let letters = try await deadLetters.listIfIdle(limit: 1000, byteBudget: 1 << 20) {
                for letter in letters.letters where letter.requestId == requestId {
                    hops.append(
                        TraceHop(
                            at: letter.at ?? Date.distantPast, service: service, step: .deadLettered,
                            entity: letter.type.flatMap(Self.entity(of:)), id: nil, version: nil, eventId: letter.eventId,
                            detail: "\(letter.reason)\(letter.detail.map { ": \($0)" } ?? "")"))
                }
            } else {
                incomplete = "the dead-letter queue was being read by another trace; retry for its hops"
            }
        } catch {
            incomplete = "the dead-letter queue could not be read (the broker is unavailable); its hops are missing"
        }
        return TraceReading(hops: hops.sorted { $0.at < $1.at }, incomplete: incomplete)
    }

    /// `customer` of `customer.created`.
    static func entity(of type: String) -> String? {
        type.split(separator: ".").first.map(String.init)
    }
}
