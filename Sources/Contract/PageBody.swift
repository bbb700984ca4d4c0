/// A page of a list endpoint: `{"items": [...], "next": cursor-or-null}`.
///
/// The generated HTTP types use it for `CustomerPage`, `OrderPage` and `ReplicatedOrderPage` (see `typeOverrides` in
/// the generator configs), because a generated type would leave a nil `next` out instead of
/// writing the `null` the contract promises.
public struct PageBody<Item: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    /// The items, oldest first.
    public var items: [Item]
    /// The cursor of the next page; null on the last.
    public var next: String?

    /// Creates a page.
    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }

    enum CodingKeys: String, CodingKey {
        case items, next
    }

    /// Encodes `next` as `null` when there is no next page.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(next, forKey: .next)
    }
}
