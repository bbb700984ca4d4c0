import Foundation
import Postgres
import Replication
import TestSupport
import Testing

/// Erasure and the relay (docs/design.md#erasure): a delete never waits for an earlier event
/// of its record that the relay is publishing, and that event is erased as it is marked published.
@Suite("Erasure beside the relay", .timeLimit(.minutes(1)))
struct ErasureTests {
    @Test("a delete does not wait for the relay's lock on an earlier event; the relay erases that event as it marks it published")
    func deleteBesideAnEventInFlight() async throws {
        try await withTestDatabase { database, _ in
            let record = UUID()
            let payload = #"{"id": "\#(record.lowercased)", "version": 1, "name": "Ada", "email": "ada@example.com"}"#
            let sequence = try await database.query(
                "INSERT INTO outbox (event_id, event_type, exchange, payload) VALUES (gen_random_uuid(), 'customer.created', 'x', $1) RETURNING sequence",
                [payload]
            )[0].decode(0, as: Int64.self)
            let relayHolds = AsyncStream.makeStream(of: Void.self)
            let deleteDone = AsyncStream.makeStream(of: Void.self)

            // The relay's batch: the row locked while the broker has not confirmed it.
            async let relay: Void = database.withTransaction { connection in
                let locked = try await connection.query(
                    "SELECT sequence FROM outbox WHERE published_at IS NULL AND parked_at IS NULL FOR UPDATE SKIP LOCKED")
                #expect(locked.count == 1)
                relayHolds.continuation.yield()
                var waiting = deleteDone.stream.makeAsyncIterator()
                await waiting.next()
                try await connection.query(Erasure.markPublished, [[sequence], ["customer.deleted"]])
            }
            var held = relayHolds.stream.makeAsyncIterator()
            await held.next()
            // The delete's transaction: erasure, then its own event. It commits while the relay holds the row.
            try await database.withTransaction { connection in
                try await Erasure.erase(record: record, on: connection)
                try await connection.query(
                    "INSERT INTO outbox (event_id, event_type, exchange, payload) VALUES (gen_random_uuid(), 'customer.deleted', 'x', $1)",
                    [#"{"id": "\#(record.lowercased)", "version": 2}"#])
            }
            deleteDone.continuation.yield()
            try await relay

            let rows = try await database.query("SELECT event_type, payload, published_at IS NOT NULL FROM outbox ORDER BY sequence")
            let created = try (rows[0].decode(0, as: String.self), rows[0].decode(1, as: String.self), rows[0].decode(2, as: Bool.self))
            #expect(created.0 == "customer.created")
            #expect(created.2, "published")
            #expect(!created.1.contains("ada@example.com"), "\(created.1)")
            let erased = try JSONSerialization.jsonObject(with: Data(created.1.utf8)) as? [String: Any]
            #expect(erased?["erased"] as? Bool == true)
            #expect(erased?["version"] as? Int == 1)
        }
    }

    @Test("marking a row published keeps its payload when its record was not deleted after it")
    func markKeepsOtherPayloads() async throws {
        try await withTestDatabase { database, _ in
            let (kept, deletedEarlier) = (UUID(), UUID())
            let sequences = try await database.query(
                """
                INSERT INTO outbox (event_id, event_type, exchange, payload) VALUES
                    (gen_random_uuid(), 'customer.deleted', 'x', $2),
                    (gen_random_uuid(), 'customer.created', 'x', $1)
                RETURNING sequence
                """,
                [#"{"id": "\#(kept.lowercased)", "version": 1, "name": "Kept"}"#, #"{"id": "\#(deletedEarlier.lowercased)", "version": 3}"#]
            ).map { try $0.decode(0, as: Int64.self) }
            try await database.query(Erasure.markPublished, [sequences, ["customer.deleted"]])
            let payloads = try await database.query("SELECT payload FROM outbox ORDER BY sequence").map { try $0.decode(0, as: String.self) }
            #expect(payloads[0].contains(deletedEarlier.lowercased) && !payloads[0].contains("erased"))
            #expect(payloads[1].contains("Kept"))
        }
    }
}
