import Contract
import Foundation
import HTTPTypes
import Testing

@testable import CustomerService

/// The change endpoints of CustomerService (docs/design.md#versions-and-tombstones) at router level: PATCH (merge patch,
/// If-Match, Idempotency-Key) and DELETE, over an in-memory store.
extension CustomerAPIContractTests {
    /// Creates a customer; returns its path.
    func created(_ email: String = "ada@example.com", client: RouterClient) async throws -> String {
        let response = try await client.send(.post, "/customers", body: #"{"name": "Ada", "email": "\#(email)"}"#)
        return "/customers/" + (try #require(response.json["id"] as? String))
    }

    @Test("a patch sets the fields it names, is version 2 with its ETag, and a patch that changes nothing stays version 2")
    func patch() async throws {
        let client = try client
        let path = try await created(client: client)
        let response = try await client.send(.patch, path, body: #"{"email": " ada@new.example ", "creditLimit": 500}"#)
        #expect(response.status == 200)
        #expect(response.json["email"] as? String == "ada@new.example", "trimmed like a create")
        #expect(response.json["creditLimit"] as? Int == 500)
        #expect(response.json["name"] as? String == "Ada", "a field the patch leaves out stays")
        #expect(response.json["version"] as? Int == 2)
        #expect(response.headers[.eTag] == #""2""#)
        let again = try await client.send(.patch, path, body: #"{"creditLimit": 500}"#)
        #expect(again.status == 200)
        #expect(again.json["version"] as? Int == 2, "nothing changed: no new version")
    }

    @Test(
        "an invalid patch is a 400 problem naming the field",
        arguments: [
            ("{}", "body"), (#"{"name": ""}"#, "name"), (#"{"email": "nope"}"#, "email"), (#"{"creditLimit": -1}"#, "creditLimit"),
            (#"{"name": null}"#, "body"), (#"{"unknown": 1}"#, "body"), ("[]", "body"),
        ]
    )
    func invalidPatch(body: String, field: String) async throws {
        let client = try client
        let path = try await created(client: client)
        expectInvalidBody(try await client.send(.patch, path, body: body), naming: field)
        #expect(store.all.first?.version == 1)
    }

    @Test("If-Match with the current version changes the record; with an old one it is a 412 problem and nothing changes")
    func ifMatch() async throws {
        let client = try client
        let path = try await created(client: client)
        #expect(try await client.send(.patch, path, body: #"{"name": "B"}"#, headers: ["If-Match": #""1""#]).status == 200)
        let stale = try await client.send(.patch, path, body: #"{"name": "C"}"#, headers: ["If-Match": #""1""#])
        #expect(stale.status == 412)
        #expect(stale.contentType == "application/problem+json")
        #expect(stale.problemType?.hasSuffix("precondition-failed") == true)
        #expect(
            try await client.send(.patch, path, body: #"{"name": "C"}"#, headers: ["If-Match": #"W/"2""#]).status == 412, "a weak tag never matches")
        #expect(try await client.send(.patch, path, body: #"{"name": "C"}"#, headers: ["If-Match": #""7", "2""#]).status == 200)
        #expect(try await client.send(.delete, path, headers: ["If-Match": "*"]).status == 204)
        #expect(store.all.isEmpty)
    }

    @Test("a malformed If-Match is a 400 problem naming the header", arguments: ["2", #""2"#, #""a b""#, ""])
    func malformedIfMatch(header: String) async throws {
        let client = try client
        let path = try await created(client: client)
        expectInvalidParameters(try await client.send(.patch, path, body: #"{"name": "B"}"#, headers: ["If-Match": header]), ["If-Match"])
    }

    @Test("changing a customer to another's email (any case) is a 409 problem")
    func emailTaken() async throws {
        let client = try client
        _ = try await created("grace@example.com", client: client)
        let path = try await created(client: client)
        let response = try await client.send(.patch, path, body: #"{"email": "GRACE@example.com"}"#)
        #expect(response.status == 409)
        #expect(response.problemType?.hasSuffix("email-taken") == true)
    }

    @Test("a delete is a 204; afterwards GET, PATCH and DELETE are 404 problems")
    func delete() async throws {
        let client = try client
        let path = try await created(client: client)
        let deleted = try await client.send(.delete, path)
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
        for (method, body) in [(HTTPRequest.Method.get, nil), (.patch, #"{"name": "B"}"#), (.delete, nil)] as [(HTTPRequest.Method, String?)] {
            let response = try await client.send(method, path, body: body)
            #expect(response.status == 404, "\(method)")
            #expect(response.contentType == "application/problem+json")
        }
    }

    @Test("an Idempotency-Key makes a PATCH and a DELETE safe to repeat; with another request it is a 422 problem")
    func idempotency() async throws {
        let client = try client
        let path = try await created(client: client)
        let patch = #"{"creditLimit": 7}"#
        let first = try await client.send(.patch, path, body: patch, headers: ["Idempotency-Key": "p-1"])
        let repeated = try await client.send(.patch, path, body: patch, headers: ["Idempotency-Key": "p-1"])
        #expect(first.status == 200)
        #expect(repeated.status == 200)
        #expect(repeated.json["version"] as? Int == 2, "the first answer again, not a third version")
        let other = try await client.send(.patch, path, body: #"{"creditLimit": 8}"#, headers: ["Idempotency-Key": "p-1"])
        #expect(other.status == 422)
        #expect(try await client.send(.delete, path, headers: ["Idempotency-Key": "d-1"]).status == 204)
        #expect(try await client.send(.delete, path, headers: ["Idempotency-Key": "d-1"]).status == 204, "a repeat of the delete")
        #expect(try await client.send(.delete, path).status == 404, "a new delete")
    }
}
