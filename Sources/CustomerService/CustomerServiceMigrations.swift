import Contract
import Postgres
import Replication

/// CustomerService's own tables, after the shared replication tables.
enum CustomerServiceMigrations {
    static let all: [Migration] = [
        Migration(
            version: ReplicationSchema.firstServiceVersion,
            name: "customers and the replica of orders",
            sql: """
                CREATE TABLE customers (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    email text NOT NULL,
                    credit_limit bigint NOT NULL CHECK (credit_limit >= 0),
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
                    request_id text
                );
                CREATE UNIQUE INDEX customers_email_key ON customers (lower(email));
                CREATE INDEX customers_page ON customers (created_at, id);

                CREATE TABLE replica_orders (
                    id uuid PRIMARY KEY,
                    customer_id uuid NOT NULL,
                    amount bigint NOT NULL,
                    status text NOT NULL,
                    created_at timestamptz NOT NULL,
                    event_id uuid NOT NULL,
                    request_id text,
                    replicated_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                CREATE INDEX replica_orders_customer ON replica_orders (customer_id, created_at, id);
                """
        ),
        ReplicationSchema.addVersions(version: ReplicationSchema.firstServiceVersion + 1, ownTable: "customers", replicaTable: "replica_orders"),
        Migration(
            version: ReplicationSchema.firstServiceVersion + 2,
            name: "tombstones of deleted customers; the replica keeps tombstones",
            sql: """
                CREATE TABLE deleted_customers (
                    id uuid PRIMARY KEY,
                    version bigint NOT NULL CHECK (version >= 2),
                    deleted_at timestamptz NOT NULL,
                    request_id text
                );
                """ + ReplicationSchema.addTombstones(replicaTable: "replica_orders", of: OrderRecord.self)
        ),
        Migration(
            version: ReplicationSchema.firstServiceVersion + 3,
            name: "erasure: earlier events and stored responses found by record id",
            sql: Erasure.indexes
        ),
        ReplicationSchema.addEpochs(version: ReplicationSchema.firstServiceVersion + 4, replicaTable: "replica_orders"),
    ]
}
