import Foundation

/// An order exactly as OrderService's HTTP API returns it and as `order.created` and `order.cancelled` carry it in `data`.
public struct OrderRecord: Codable, Hashable, Identifiable, Sendable {
    /// The statuses an order can have: `created`, then `cancelled` (docs/design.md#versions-and-tombstones).
    public static let statuses: Set<String> = [created, cancelled]
    /// A new order's status.
    public static let created = "created"
    /// The status of a cancelled order; it cannot change again.
    public static let cancelled = "cancelled"

    /// The order's id, chosen by OrderService.
    public var id: UUID
    /// The customer the order is for.
    public var customerId: UUID
    /// In cents, more than zero.
    public var amount: Int64
    /// `created` or `cancelled`.
    public var status: String
    /// When the row committed at OrderService, to the millisecond.
    public var createdAt: Date
    /// 1 when created, one more with each change (docs/design.md#versions-and-tombstones): a replica keeps the highest.
    public var version: Int64
    /// When the last change committed (`createdAt` for version 1).
    public var updatedAt: Date

    /// Creates a record; `updatedAt` defaults to `createdAt`.
    public init(
        id: UUID, customerId: UUID, amount: Int64, status: String = "created", createdAt: Date, version: Int64 = 1, updatedAt: Date? = nil
    ) {
        self.id = id
        self.customerId = customerId
        self.amount = amount
        self.status = status
        self.createdAt = createdAt
        self.version = version
        self.updatedAt = updatedAt ?? createdAt
    }

    /// The reasons this record breaks the contract's field rules (empty when valid), named `prefix` + field.
    public func validate(prefix: String = "") -> [InvalidParameter] {
        var problems = FieldRules.amount(amount, field: prefix + "amount") + FieldRules.version(version, field: prefix + "version")
        if !Self.statuses.contains(status) {
            problems.append(InvalidParameter(name: prefix + "status", reason: "must be one of \(Self.statuses.sorted())"))
        }
        return problems
    }

    enum CodingKeys: String, CodingKey {
        case id, customerId, amount, status, createdAt, version, updatedAt
    }

    /// Decodes the contract's JSON: lowercase or uppercase UUIDs, RFC 3339 time.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeUUID(forKey: .id)
        customerId = try container.decodeUUID(forKey: .customerId)
        amount = try container.decode(Int64.self, forKey: .amount)
        status = try container.decode(String.self, forKey: .status)
        createdAt = try container.decodeTimestamp(forKey: .createdAt)
        (version, updatedAt) = try container.decodeVersion(.version, updatedAt: .updatedAt, createdAt: createdAt)
    }

    /// Encodes the contract's JSON: lowercase UUIDs, RFC 3339 UTC time with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(customerId.lowercased, forKey: .customerId)
        try container.encode(amount, forKey: .amount)
        try container.encode(status, forKey: .status)
        try container.encode(Timestamp.format(createdAt), forKey: .createdAt)
        try container.encodeVersion(version, .version, updatedAt: updatedAt, .updatedAt)
    }
}
