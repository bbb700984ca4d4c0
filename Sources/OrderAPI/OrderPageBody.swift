/// A page of orders: `{"items": [...], "next": cursor-or-null}`.
///
/// Hand-written (see `typeOverrides` in the generator config) because the
/// generated type would leave `next` out instead of writing `null`.
package struct OrderPageBody: Codable, Hashable, Sendable {
    /// The orders, oldest first.
    package var items: [Components.Schemas.Order]
    /// The cursor of the next page; null on the last.
    package var next: String?

    /// Creates a page.
    package init(items: [Components.Schemas.Order], next: String?) {
        self.items = items
        self.next = next
    }

    enum CodingKeys: String, CodingKey {
        case items, next
    }

    /// Encodes `next` as `null` when there is no next page.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(next, forKey: .next)
    }
}
