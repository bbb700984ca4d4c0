import Foundation

/// A record as a replica holds it: the record, and when and by which event it arrived.
public struct Replicated<Record: Sendable>: Sendable {
    /// The record as its source published it.
    public var record: Record
    /// When the replica row was written.
    public var replicatedAt: Date
    /// The event that brought it.
    public var eventId: UUID
    /// The request id of the request that created it at the source.
    public var requestId: String?

    /// Creates a replicated record.
    public init(record: Record, replicatedAt: Date, eventId: UUID, requestId: String?) {
        self.record = record
        self.replicatedAt = replicatedAt
        self.eventId = eventId
        self.requestId = requestId
    }
}

/// A page of a list endpoint.
public struct Page<Item: Sendable>: Sendable {
    /// The items, oldest first.
    public var items: [Item]
    /// The cursor of the next page; nil on the last.
    public var next: PageCursor?

    /// Makes a page from `limit + 1` fetched items: the extra one only says there is more.
    public init(fetched: [Item], limit: Int, cursor: (Item) -> PageCursor) {
        items = Array(fetched.prefix(limit))
        next = fetched.count > limit ? items.last.map(cursor) : nil
    }
}
