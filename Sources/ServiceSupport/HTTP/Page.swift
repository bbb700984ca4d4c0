/// A page of a list endpoint, as a repository returns it.
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
