import Foundation
import Postgres

/// Removes a deleted record's personal data from what a service keeps beside its table: the
/// payloads of the record's earlier events in the outbox and the responses stored for its
/// Idempotency-Keys (see docs/design.md#erasure).
///
/// Runs in the transaction of the delete, before the delete's own event is appended:
/// - an earlier event not published yet (pending or parked) is dropped: the delete supersedes
///   it, and every replica converges to the same tombstone without it;
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
            "DELETE FROM outbox WHERE (payload::jsonb) ->> 'id' = $1 AND published_at IS NULL", [key])
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
}
