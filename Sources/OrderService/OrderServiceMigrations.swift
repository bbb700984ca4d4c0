import Contract
import Postgres
import Replication

/// OrderService's own tables, after the shared replication tables.
enum OrderServiceMigrations {
    static let all: [Migration] = [
        Migration(
            version: ReplicationSchema.firstServiceVersion,
            name: "orders and the replica of customers",
            sql: """
                CREATE TABLE orders (
                    id uuid PRIMARY KEY,
                    customer_id uuid NOT NULL,
                    amount bigint NOT NULL CHECK (amount > 0),
                    status text NOT NULL DEFAULT 'created',
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
                    request_id text
                );
                CREATE INDEX orders_page ON orders (created_at, id);
                CREATE INDEX orders_customer_page ON orders (customer_id, created_at, id);

                CREATE TABLE replica_customers (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    email text NOT NULL,
                    credit_limit bigint NOT NULL,
                    created_at timestamptz NOT NULL,
                    event_id uuid NOT NULL,
                    request_id text,
                    replicated_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                """
        ),
        ReplicationSchema.addVersions(version: ReplicationSchema.firstServiceVersion + 1, ownTable: "orders", replicaTable: "replica_customers"),
        Migration(
            version: ReplicationSchema.firstServiceVersion + 2,
            name: "cancelled orders; the replica keeps tombstones",
            sql: ReplicationSchema.addTombstones(replicaTable: "replica_customers", of: CustomerRecord.self)
                + "ALTER TABLE orders ADD CONSTRAINT orders_status CHECK (status IN ('created', 'cancelled'));"
        ),
        ReplicationSchema.addEpochs(version: ReplicationSchema.firstServiceVersion + 3, replicaTable: "replica_customers"),
    ]
}
