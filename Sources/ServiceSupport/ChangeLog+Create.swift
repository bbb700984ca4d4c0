import Contract
import Foundation
import Postgres
import Replication

extension ChangeLog {
    /// Creates a record and its `event` in one transaction, made safe to retry by `idempotency`.
    ///
    /// `insert` writes the record's row and returns the record. Its JSON (exactly what the HTTP
    /// API returns) becomes the event's `data` and the stored response of the Idempotency-Key;
    /// a repeat of the key returns the first record and writes nothing.
    ///
    /// - Throws: what `insert` throws; ``IdempotencyError`` for a key used with another request.
    public func create<Record: Codable & Sendable>(
        _ event: EventType,
        requestId: String,
        idempotency: IdempotentRequest?,
        insert: (PostgresConnection) async throws -> Record
    ) async throws -> (record: Record, created: Bool) {
        try await transaction { change in
            if let idempotency, let stored = try await idempotency.claim(on: change.connection) {
                return (try JSONDecoder().decode(Record.self, from: Data(stored.utf8)), false)
            }
            let record = try await insert(change.connection)
            let data = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
            try await change.append(event, data: data, requestId: requestId)
            try await idempotency?.complete(body: data, on: change.connection)
            return (record, true)
        }
    }
}
