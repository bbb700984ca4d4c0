import Contract
import Foundation
import Postgres

/// What a write to a service's own table did.
public enum Written<Record: Sendable>: Sendable {
    /// The row changed; the record is its new state (or a deleted record's tombstone).
    case changed(Record)
    /// The request asked for the state the row already has: nothing was written, no event.
    case unchanged(Record)
}

extension ChangeLog {
    /// Makes one change to a service's own table and appends its `event` in the same
    /// transaction, made safe to retry by `idempotency` (docs/design.md#versions-and-tombstones).
    ///
    /// `write` changes the row and returns the record after the change. Its JSON (exactly what
    /// the HTTP API returns) becomes the event's `data` and the stored response of the
    /// Idempotency-Key; a repeat of the key returns that record again and writes nothing.
    ///
    /// - Returns: the record, and whether this request changed it (false for a repeat of the
    ///   key, and for a change to the state the record already had).
    /// - Throws: what `write` throws (the transaction rolls back, the key is not used up);
    ///   ``IdempotencyError`` for a key used with another request.
    public func write<Record: Codable & Sendable>(
        _ event: EventType,
        requestId: String,
        idempotency: IdempotentRequest?,
        status: Int,
        _ write: (PostgresConnection) async throws -> Written<Record>
    ) async throws -> (record: Record, changed: Bool) {
        try await transaction { change in
            if let idempotency, let stored = try await idempotency.claim(on: change.connection) {
                guard let record = try? JSONDecoder().decode(Record.self, from: Data(stored.utf8)) else {
                    throw IdempotencyError.erased
                }
                return (record, false)
            }
            let (record, changed) =
                switch try await write(change.connection) {
                case .changed(let record): (record, true)
                case .unchanged(let record): (record, false)
                }
            let data = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
            if changed {
                try await change.append(event, data: data, requestId: requestId)
            }
            try await idempotency?.complete(status: status, body: data, on: change.connection)
            return (record, changed)
        }
    }

    /// Creates a record and its `event` in one transaction: ``write(_:requestId:idempotency:status:_:)``
    /// with `insert`, which writes the new row and returns the record.
    public func create<Record: Codable & Sendable>(
        _ event: EventType,
        requestId: String,
        idempotency: IdempotentRequest?,
        insert: (PostgresConnection) async throws -> Record
    ) async throws -> (record: Record, created: Bool) {
        let (record, changed) = try await write(event, requestId: requestId, idempotency: idempotency, status: 201) {
            Written.changed(try await insert($0))
        }
        return (record, changed)
    }
}
