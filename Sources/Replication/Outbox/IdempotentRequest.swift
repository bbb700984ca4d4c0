import Contract
import Foundation
import Postgres

/// A POST, PATCH or DELETE made safe to retry with `Idempotency-Key`: the same key with the same
/// request returns the first response again (no second record or change, no second event);
/// the same key with a different request is refused (``IdempotencyError``, a 422 at the edge).
///
/// The key is claimed inside the transaction that creates the record, so the
/// record, its event and the stored response commit (or roll back) together; a
/// concurrent request with the same key waits on the key's row until the first
/// commits, then gets the stored response.
public struct IdempotentRequest: Sendable {
    /// The client's key.
    public var key: String
    /// The operation, so that one key cannot be replayed against another endpoint.
    public var operation: String
    /// A canonical form of the request body.
    public var fingerprint: String

    /// Creates the request, or nil when there is no key.
    public init?(key: String?, operation: String, fingerprint: String) {
        guard let key else { return nil }
        self.key = key
        self.operation = operation
        self.fingerprint = fingerprint
    }

    /// Claims the key on `connection` (inside the caller's transaction). Returns the
    /// stored response body when the key was used before with the same request;
    /// nil when the caller is first and must do the work and then ``complete(status:body:on:)``.
    /// Throws ``IdempotencyError/reused`` when the key was used with another request,
    /// ``IdempotencyError/inProgress`` when its first request has not finished, and
    /// ``IdempotencyError/erased`` when its record was deleted since (``Erasure``).
    public func claim(on connection: PostgresConnection) async throws -> String? {
        let claimed = try await connection.query(
            """
            INSERT INTO idempotency_keys (key, operation, request_fingerprint) VALUES ($1, $2, $3)
            ON CONFLICT (key) DO NOTHING
            RETURNING key
            """,
            [key, operation, fingerprint]
        )
        if !claimed.isEmpty { return nil }
        let stored = try await connection.query(
            "SELECT operation, request_fingerprint, response_body, response_status FROM idempotency_keys WHERE key = $1",
            [key]
        )
        guard let row = stored.first else { throw IdempotencyError.inProgress }
        if try row.decode(3, as: Int?.self) == 410 { throw IdempotencyError.erased }
        guard try row.decode(0, as: String.self) == operation, try row.decode(1, as: String.self) == fingerprint else {
            throw IdempotencyError.reused
        }
        guard let body = try row.decode(2, as: String?.self) else { throw IdempotencyError.inProgress }
        return body
    }

    /// Stores the response's status and body for later repeats of the key (same transaction as ``claim(on:)``).
    public func complete(status: Int = 201, body: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE idempotency_keys SET response_status = $2, response_body = $3 WHERE key = $1",
            [key, status, body]
        )
    }
}
