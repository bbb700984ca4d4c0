import Postgres

/// The tables every replicating service has besides its own: the outbox it
/// publishes from, the inbox it deduplicates with, its consumer counters and
/// the idempotency keys of its HTTP API.
///
/// A service's own migrations start at ``firstServiceVersion``.
public enum ReplicationSchema {
    /// The first migration version a service may use for its own tables.
    public static let firstServiceVersion = 100

    /// The AMQP header that carries the epoch of the source database an event comes from
    /// (`replication_epoch`, docs/design.md#repair): a replica orders a record's changes by
    /// (epoch, version), so changes made after a restore (and an epoch bump) win over the
    /// higher versions the restore lost. An event without it is of epoch 1.
    public static let epochHeader = "x-epoch"

    /// The migration, `version` of a service's own list, that gives its replica an `epoch`
    /// column: every existing row is of epoch 1. `replicaTable` is a trusted constant.
    public static func addEpochs(version: Int, replicaTable: String) -> Migration {
        Migration(
            version: version,
            name: "epochs: the replica orders changes by (epoch, version)",
            sql: "ALTER TABLE \(replicaTable) ADD COLUMN epoch bigint NOT NULL DEFAULT 1 CHECK (epoch >= 1);"
        )
    }

    /// The migration, `version` of a service's own list, that gives its own table and its replica
    /// `version` and `updated_at`: existing rows become version 1, last changed when they were
    /// created (docs/design.md#versions-and-tombstones). Both services apply it, under one name.
    /// `ownTable` and `replicaTable` are trusted constants.
    public static func addVersions(version: Int, ownTable: String, replicaTable: String) -> Migration {
        Migration(
            version: version,
            name: "versions: existing rows become version 1",
            sql: """
                ALTER TABLE \(ownTable) ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version >= 1), ADD COLUMN updated_at timestamptz;
                UPDATE \(ownTable) SET updated_at = created_at;
                ALTER TABLE \(ownTable) ALTER COLUMN updated_at SET NOT NULL;
                ALTER TABLE \(replicaTable) ADD COLUMN version bigint NOT NULL DEFAULT 1, ADD COLUMN updated_at timestamptz;
                UPDATE \(replicaTable) SET updated_at = created_at;
                ALTER TABLE \(replicaTable) ALTER COLUMN updated_at SET NOT NULL;
                """
        )
    }

    /// The rows of a replica that are records, not tombstones (a trusted SQL condition).
    public static let liveReplicaRows = "deleted_at IS NULL"

    /// The SQL that lets `replicaTable`, the replica of `Record`s, keep tombstones (docs/design.md#versions-and-tombstones): a
    /// `deleted_at` column, and the record's columns that a tombstone does not have made
    /// nullable (a tombstone's row has NULL there). `replicaTable` is a trusted constant.
    public static func addTombstones<Record: StoredRecord>(replicaTable: String, of record: Record.Type) -> String {
        let nullable = Record.columns.filter { !$0.inTombstone }.map(\.name)
        return """
            ALTER TABLE \(replicaTable) ADD COLUMN deleted_at timestamptz\(nullable.map { ", ALTER COLUMN \($0) DROP NOT NULL" }.joined());
            ALTER TABLE \(replicaTable) ADD CONSTRAINT \(replicaTable)_live_rows_are_whole
                CHECK (deleted_at IS NOT NULL OR (\(nullable.map { "\($0) IS NOT NULL" }.joined(separator: " AND "))));
            """
    }

    /// The shared migrations, versions 1...
    public static let migrations: [Migration] = [
        Migration(
            version: 1,
            name: "outbox",
            sql: """
                CREATE TABLE outbox (
                    sequence bigserial PRIMARY KEY,
                    event_id uuid NOT NULL UNIQUE,
                    event_type text NOT NULL,
                    exchange text NOT NULL,
                    payload text NOT NULL,
                    headers jsonb NOT NULL DEFAULT '{}',
                    request_id text,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
                    published_at timestamptz
                );
                CREATE INDEX outbox_pending ON outbox (sequence) WHERE published_at IS NULL;
                """
        ),
        Migration(
            version: 2,
            name: "inbox",
            sql: """
                CREATE TABLE inbox (
                    event_id uuid PRIMARY KEY,
                    event_type text NOT NULL,
                    source_sequence bigint NOT NULL,
                    outcome text NOT NULL CHECK (outcome IN ('applied', 'replay')),
                    processed_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                CREATE TABLE consumer_counters (
                    name text PRIMARY KEY,
                    value bigint NOT NULL
                );
                """
        ),
        Migration(
            version: 3,
            name: "idempotency keys",
            sql: """
                CREATE TABLE idempotency_keys (
                    key text PRIMARY KEY,
                    operation text NOT NULL,
                    request_fingerprint text NOT NULL,
                    response_status integer,
                    response_body text,
                    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                """
        ),
        Migration(
            version: 4,
            name: "parked outbox rows",
            sql: """
                ALTER TABLE outbox
                    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                    ADD COLUMN last_error text,
                    ADD COLUMN parked_at timestamptz;
                DROP INDEX outbox_pending;
                CREATE INDEX outbox_pending ON outbox (sequence) WHERE published_at IS NULL AND parked_at IS NULL;
                CREATE INDEX outbox_parked ON outbox (sequence) WHERE parked_at IS NOT NULL;
                """
        ),
        Migration(
            version: 5,
            name: "retention indexes",
            sql: """
                CREATE INDEX inbox_processed_at ON inbox (processed_at);
                CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
                """
        ),
        Migration(
            version: 6,
            name: "resync jobs",
            sql: """
                CREATE TABLE resync_jobs (
                    id uuid PRIMARY KEY,
                    subscriber text NOT NULL,
                    queue text NOT NULL,
                    state text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
                    ids uuid[],
                    total bigint NOT NULL,
                    sent bigint NOT NULL DEFAULT 0,
                    error text,
                    started_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
                    finished_at timestamptz
                );
                -- One running job per subscriber.
                CREATE UNIQUE INDEX resync_jobs_running ON resync_jobs (subscriber) WHERE state = 'running';
                """
        ),
        Migration(
            version: 7,
            name: "trace: request ids in the inbox and indexes by request id",
            sql: """
                ALTER TABLE inbox ADD COLUMN request_id text, ADD COLUMN record_id uuid, ADD COLUMN version bigint;
                CREATE INDEX inbox_request_id ON inbox (request_id) WHERE request_id IS NOT NULL;
                CREATE INDEX outbox_request_id ON outbox (request_id) WHERE request_id IS NOT NULL;
                """
        ),
        Migration(
            version: 8,
            name: "resync jobs: owner and heartbeat",
            sql: """
                ALTER TABLE resync_jobs
                    ADD COLUMN owner text,
                    ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp());
                UPDATE resync_jobs SET heartbeat_at = coalesce(finished_at, started_at);
                """
        ),
        Migration(
            version: 9,
            name: "outbox: refused since",
            sql: """
                ALTER TABLE outbox ADD COLUMN refused_since timestamptz;
                """
        ),
        Migration(
            version: 10,
            name: "epochs: one generation of this database, bumped after a restore",
            sql: """
                -- One row. After a restore from a backup (or a failover that lost commits), an operator
                -- runs UPDATE replication_epoch SET epoch = epoch + 1 (scripts/bump-epoch).
                CREATE TABLE replication_epoch (
                    single boolean PRIMARY KEY DEFAULT true CHECK (single),
                    epoch bigint NOT NULL DEFAULT 1 CHECK (epoch >= 1)
                );
                INSERT INTO replication_epoch DEFAULT VALUES;
                """
        ),
    ]
}
