import Contract
import Postgres

extension CustomerRecord: StoredRecord {
    /// `customer.created`.
    public static var createdEvent: EventType { .customerCreated }

    /// `customer.created` and `customer.updated`.
    public static var recordEvents: Set<EventType> { [.customerCreated, .customerUpdated] }

    /// `customer.deleted`.
    public static var deletedEvent: EventType? { .customerDeleted }

    /// `customer.snapshot`.
    public static var snapshotEvent: EventType { .customerSnapshot }

    /// `id, name, email, credit_limit, created_at, version, updated_at`.
    public static let columns: [StoredColumn<CustomerRecord>] = [
        StoredColumn("id", "uuid", \.id, tombstone: { $0.id }),
        StoredColumn("name", "text", \.name),
        StoredColumn("email", "text", \.email),
        StoredColumn("credit_limit", "bigint", \.creditLimit),
        StoredColumn("created_at", "timestamptz", \.createdAt),
        StoredColumn("version", "bigint", \.version, tombstone: { $0.version }),
        StoredColumn("updated_at", "timestamptz", \.updatedAt, tombstone: { $0.deletedAt }),
    ]

    /// Reads the columns of ``columns`` from `first` on.
    public init(row: PostgresRow, at first: Int) throws {
        self.init(
            id: try row.decode(first), name: try row.decode(first + 1), email: try row.decode(first + 2),
            creditLimit: try row.decode(first + 3), createdAt: try row.decode(first + 4), version: try row.decode(first + 5),
            updatedAt: try row.decode(first + 6)
        )
    }
}
