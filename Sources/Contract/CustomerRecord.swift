import Foundation

/// A customer exactly as CustomerService's HTTP API returns it and as `customer.created` and `customer.updated` carry it in `data`.
public struct CustomerRecord: Codable, Hashable, Identifiable, Sendable {
    /// The customer's id, chosen by CustomerService.
    public var id: UUID
    /// 1...200 characters.
    public var name: String
    /// Unique among customers, compared case-insensitively.
    public var email: String
    /// In cents, zero or more.
    public var creditLimit: Int64
    /// When the row committed at CustomerService, to the millisecond.
    public var createdAt: Date
    /// 1 when created, one more with each change (docs/design.md#versions-and-tombstones): a replica keeps the highest.
    public var version: Int64
    /// When the last change committed (`createdAt` for version 1).
    public var updatedAt: Date

    /// Creates a record; `updatedAt` defaults to `createdAt`.
    public init(id: UUID, name: String, email: String, creditLimit: Int64, createdAt: Date, version: Int64 = 1, updatedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.email = email
        self.creditLimit = creditLimit
        self.createdAt = createdAt
        self.version = version
        self.updatedAt = updatedAt ?? createdAt
    }

    /// The reasons this record breaks the contract's field rules (empty when valid), named `prefix` + field.
    public func validate(prefix: String = "") -> [InvalidParameter] {
        FieldRules.name(name, field: prefix + "name")
            + FieldRules.email(email, field: prefix + "email")
            + FieldRules.creditLimit(creditLimit, field: prefix + "creditLimit")
            + FieldRules.version(version, field: prefix + "version")
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, creditLimit, createdAt, version, updatedAt
    }

    /// Decodes the contract's JSON: lowercase or uppercase UUID, RFC 3339 time.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeUUID(forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        email = try container.decode(String.self, forKey: .email)
        creditLimit = try container.decode(Int64.self, forKey: .creditLimit)
        createdAt = try container.decodeTimestamp(forKey: .createdAt)
        (version, updatedAt) = try container.decodeVersion(.version, updatedAt: .updatedAt, createdAt: createdAt)
    }

    /// Encodes the contract's JSON: lowercase UUID, RFC 3339 UTC time with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(creditLimit, forKey: .creditLimit)
        try container.encode(Timestamp.format(createdAt), forKey: .createdAt)
        try container.encodeVersion(version, .version, updatedAt: updatedAt, .updatedAt)
    }
}
