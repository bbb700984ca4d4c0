import Foundation
import Postgres
import Replication
import ServiceSupport
import TestSupport
import Testing

/// `Idempotency-Key`: the same key and request return the first response again; the
/// same key with another request is a 422.
@Suite("Idempotent request (PostgreSQL)")
struct IdempotentRequestTests {
    struct WorkFailed: Error {}

    @Test("the first claim does the work; a repeat with the same request gets the stored body")
    func repeatReturnsStoredBody() async throws {
        try await TestDatabase.withTestClient(migrations: ReplicationSchema.migrations) { database in
            let request = try #require(IdempotentRequest(key: "key-1", operation: "createCustomer", fingerprint: #"{"name":"Ada"}"#))
            let first = try await database.withTransaction { connection in
                let stored = try await request.claim(on: connection)
                try await request.complete(body: #"{"id":"c-1"}"#, on: connection)
                return stored
            }
            #expect(first == nil)

            let second = try await database.withTransaction { try await request.claim(on: $0) }
            #expect(second == #"{"id":"c-1"}"#)
            let third = try await database.withTransaction { try await request.claim(on: $0) }
            #expect(third == #"{"id":"c-1"}"#)
            #expect(try await database.query("SELECT count(*) FROM idempotency_keys")[0].decode(0, as: Int64.self) == 1)
        }
    }

    @Test("the same key with a different request, or for another operation, is the 422 problem")
    func differentRequest() async throws {
        try await TestDatabase.withTestClient(migrations: ReplicationSchema.migrations) { database in
            let original = try #require(IdempotentRequest(key: "key-2", operation: "createCustomer", fingerprint: "A"))
            try await database.withTransaction { connection in
                _ = try await original.claim(on: connection)
                try await original.complete(body: "{}", on: connection)
            }
            for other in [
                IdempotentRequest(key: "key-2", operation: "createCustomer", fingerprint: "B"),
                IdempotentRequest(key: "key-2", operation: "createOrder", fingerprint: "A"),
            ] {
                let request = try #require(other)
                let error = try await #require(throws: IdempotencyError.self) {
                    try await database.withTransaction { try await request.claim(on: $0) }
                }
                let problem = error.problem
                #expect(problem.status == 422)
                #expect(problem.code == "idempotency-key-reused")
            }
            // The original is untouched.
            let claimed = try await database.withTransaction { try await original.claim(on: $0) }
            #expect(claimed == "{}")
        }
    }

    @Test("a claim that rolled back leaves the key free for the retry")
    func rollbackFreesKey() async throws {
        try await TestDatabase.withTestClient(migrations: ReplicationSchema.migrations) { database in
            let request = try #require(IdempotentRequest(key: "key-3", operation: "createOrder", fingerprint: "A"))
            await #expect(throws: WorkFailed.self) {
                try await database.withTransaction { connection in
                    #expect(try await request.claim(on: connection) == nil)
                    throw WorkFailed()
                }
            }
            let retry = try await database.withTransaction { try await request.claim(on: $0) }
            #expect(retry == nil, "the retry does the work itself")
        }
    }

    @Test("a key committed without a response is reported as in progress (409)")
    func inProgress() async throws {
        try await TestDatabase.withTestClient(migrations: ReplicationSchema.migrations) { database in
            let request = try #require(IdempotentRequest(key: "key-4", operation: "createOrder", fingerprint: "A"))
            _ = try await database.withTransaction { try await request.claim(on: $0) }
            let error = try await #require(throws: IdempotencyError.self) {
                try await database.withTransaction { try await request.claim(on: $0) }
            }
            let problem = error.problem
            #expect(problem.status == 409)
            #expect(problem.code == "idempotency-key-in-progress")
        }
    }

    @Test("a concurrent repeat waits for the first transaction and then gets its response")
    func concurrentRepeat() async throws {
        try await TestDatabase.withTestClient(migrations: ReplicationSchema.migrations) { database in
            let request = try #require(IdempotentRequest(key: "key-5", operation: "createCustomer", fingerprint: "A"))
            let (firstClaim, repeatClaim) = try await database.withTransaction { connection in
                let firstClaim = try await request.claim(on: connection)
                // The repeat starts while the first transaction holds the key uncommitted.
                let repeated = Task { try await database.withTransaction { try await request.claim(on: $0) } }
                try await Task.sleep(for: .milliseconds(200))
                try await request.complete(body: "first response", on: connection)
                return (firstClaim, repeated)
            }
            #expect(firstClaim == nil)
            #expect(try await repeatClaim.value == "first response")
        }
    }
}
