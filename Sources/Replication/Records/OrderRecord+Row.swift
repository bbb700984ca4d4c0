import Contract
import Postgres

extension OrderRecord: StoredRecord {
    /// `order.created`.
    public static var createdEvent: EventType { .orderCreated }

    /// `order.created` and `order.cancelled`.
    public static var recordEvents: Set<EventType> { [.orderCreated, .orderCancelled] }

    /// `order.snapshot`.
    public static var snapshotEvent: EventType { .orderSnapshot }

    /// `id, customer_id, amount, status, created_at, version, updated_at`.
    public static let columns: [StoredColumn<OrderRecord>] = [
        StoredColumn("id", "uuid", \.id, tombstone: { $0.id }),
        StoredColumn("customer_id", "uuid", \.customerId),
        StoredColumn("amount", "bigint", \.amount),
        StoredColumn("status", "text", \.status),
        StoredColumn("created_at", "timestamptz", \.createdAt),
        StoredColumn("version", "bigint", \.version, tombstone: { $0.version }),
        StoredColumn("updated_at", "timestamptz", \.updatedAt, tombstone: { $0.deletedAt }),
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
