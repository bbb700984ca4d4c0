import Foundation
import Postgres

/// Removes a deleted record's personal data from what a service keeps beside its table: the
/// payloads of the record's earlier events in the outbox and the responses stored for its
/// Idempotency-Keys (see docs/design.md#erasure).
///
/// Runs in the transaction of the delete, before the delete's own event is appended:
/// - an earlier event not published yet (pending or parked) is dropped: the delete supersedes
///   it, and every replica converges to the same tombstone without it; one the relay is
///   publishing at that moment (its row locked until the broker confirms, seconds while the
///   broker has lost its majority) is not waited for: the relay erases its payload as it marks
///   it published (``markPublished``), and the delete answers at once;
/// - a published one keeps its row (sequence, type, request id: the trace) with a payload of
///   only `id`, `version` and `"erased": true`;
/// - a stored response that is the record becomes `{"erased": true}` with status 410, and the
///   request's fingerprint (which holds the request's fields) goes too: a repeat of its key is
///   answered 410 Gone (``IdempotencyError/erased``).
public enum Erasure {
    /// The indexes that find a record's outbox rows and stored responses by its id (a migration
    /// of every service that erases).
    public static let indexes = """
        CREATE INDEX outbox_record_id ON outbox (((payload::jsonb) ->> 'id'));
        CREATE INDEX idempotency_keys_record_id ON idempotency_keys (((response_body::jsonb) ->> 'id')) WHERE response_body IS NOT NULL;
        """

    /// Erases record `id`'s earlier events and stored responses, on the delete's `connection`.
    public static func erase(record id: UUID, on connection: PostgresConnection) async throws {
        let key = id.lowercased
        try await connection.query(
            """
            DELETE FROM outbox WHERE sequence IN (
                SELECT sequence FROM outbox WHERE (payload::jsonb) ->> 'id' = $1 AND published_at IS NULL FOR UPDATE SKIP LOCKED)
            """,
            [key])
        try await connection.query(
            """
            UPDATE outbox SET payload = jsonb_build_object('id', $1::text, 'version', (payload::jsonb) -> 'version', 'erased', true)::text
            WHERE (payload::jsonb) ->> 'id' = $1 AND published_at IS NOT NULL AND NOT ((payload::jsonb) ? 'erased')
            """,
            [key])
        try await connection.query(
            """
            UPDATE idempotency_keys SET response_status = 410, response_body = '{"erased": true}', request_fingerprint = 'erased'
            WHERE response_body IS NOT NULL AND (response_body::jsonb) ->> 'id' = $1
            """,
            [key])
    }

    /// The relay's statement that marks the rows `$1` published, for a service that erases:
    /// a row whose record has a later event of a type in `$2` (its deletion, committed while the
    /// relay published the row) keeps only `id`, `version` and `"erased": true`, as ``erase(record:on:)``
    /// leaves the published rows. The record-id index finds the later event.
    public static let markPublished = """
        UPDATE outbox SET published_at = clock_timestamp(),
            payload = CASE WHEN EXISTS (
                    SELECT 1 FROM outbox AS later
                    WHERE (later.payload::jsonb) ->> 'id' = (outbox.payload::jsonb) ->> 'id'
                        AND later.sequence > outbox.sequence AND later.event_type = ANY($2::text[]))
                THEN jsonb_build_object('id', (payload::jsonb) ->> 'id', 'version', (payload::jsonb) -> 'version', 'erased', true)::text
                ELSE payload END
        WHERE sequence = ANY($1)
        """
}
