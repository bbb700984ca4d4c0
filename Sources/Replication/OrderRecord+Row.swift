import Contract
import Postgres

extension OrderRecord: StoredRecord {
    /// `order.created`.
    public static var createdEvent: EventType { .orderCreated }

    /// `order.created`.
    public static var recordEvents: Set<EventType> { [.orderCreated] }

    /// `id, customer_id, amount, status, created_at, version, updated_at`.
    public static let columns: [StoredColumn<OrderRecord>] = [
        StoredColumn("id", "uuid", \.id),
        StoredColumn("customer_id", "uuid", \.customerId),
        StoredColumn("amount", "bigint", \.amount),
        StoredColumn("status", "text", \.status),
        StoredColumn("created_at", "timestamptz", \.createdAt),
        StoredColumn("version", "bigint", \.version),
        StoredColumn("updated_at", "timestamptz", \.updatedAt),
    ]

    /// Reads the columns of ``columns`` from `first` on.
    public init(row: PostgresRow, at first: Int) throws {
        self.init(
            id: try row.decode(first), customerId: try row.decode(first + 1), amount: try row.decode(first + 2),
            status: try row.decode(first + 3), createdAt: try row.decode(first + 4), version: try row.decode(first + 5),
            updatedAt: try row.decode(first + 6)
        )
    }
}
