import AMQP
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import Replication
import ServiceSupport
import Testing

/// Errors become RFC 9457 problems at the edge, and every response carries the request id.
@Suite("Problem and request id middleware")
struct ProblemMiddlewareTests {
    struct SecretFailure: Error, CustomStringConvertible {
        var description: String { "connection to db-internal.example:5432 failed for user admin password hunter2" }
    }

    /// The shared middleware, as the services install it, in front of a few test routes.
    func application() -> some ApplicationProtocol {
        let router = ServiceRouter.make()
        router.get("ok") { _, _ in "fine" }
        router.get("request-id") { _, _ in RequestID.current ?? "none" }
        router.post("invalid") { _, _ -> String in
            throw Problem.validation([
                InvalidParameter(name: "email", reason: "must be a valid email address"),
                InvalidParameter(name: "creditLimit", reason: "must be zero or more (cents)"),
            ])
        }
        router.get("missing") { _, _ -> String in throw Problem.notFound("customer 42") }
        router.get("reused") { _, _ -> String in throw Problem.idempotencyKeyReused }
        router.get("boom") { _, _ -> String in throw SecretFailure() }
        router.get("database-down") { _, _ -> String in
            throw PostgresError(code: .connectionFailed, message: "could not connect to db-internal.example")
        }
        router.get("database/{state}") { _, context -> String in
            throw PostgresError(code: .server, message: "Failing row contains (secret)", sqlState: context.parameters.get("state"))
        }
        router.get("pool-timeout") { _, _ -> String in throw PostgresError(code: .poolTimeout, message: "no connection in time") }
        router.get("broker-down") { _, _ -> String in throw AMQPError(.connectionRefused, "broker-internal.example refused") }
        router.get("dead-letters-busy") { _, _ -> String in throw DeadLetterError.busy(queue: "q.dead") }
        return Application(router: router)
    }

    static let headerName = HTTPField.Name("X-Request-ID")!

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    /// The response of ``application()`` to `GET path`.
    func get(_ path: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await application().test(.router) { client in try await client.execute(uri: path, method: .get, headers: headers) }
    }

    @Test("a thrown Problem becomes application/problem+json with status, type, title, detail, invalid-params and requestId")
    func problem() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/invalid", method: .post, headers: [Self.headerName: "trace-abc-123"]) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[Self.headerName] == "trace-abc-123")
                let body = try json(response)
                #expect(body["status"] as? Int == 400)
                #expect(body["type"] as? String == "/problems/validation")
                #expect(body["title"] as? String == "The request is invalid")
                #expect(body["detail"] as? String == "email: must be a valid email address; creditLimit: must be zero or more (cents)")
                #expect(body["requestId"] as? String == "trace-abc-123")
                let params = try #require(body["invalid-params"] as? [[String: String]])
                #expect(
                    params == [
                        ["name": "email", "reason": "must be a valid email address"],
                        ["name": "creditLimit", "reason": "must be zero or more (cents)"],
                    ])
            }
            try await client.execute(uri: "/missing", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try json(response)
                #expect(body["type"] as? String == "/problems/not-found")
                #expect(body["detail"] as? String == "customer 42")
                #expect(body["invalid-params"] == nil)
            }
            try await client.execute(uri: "/reused", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                let body = try json(response)
                #expect((body["type"] as? String)?.hasSuffix("idempotency-key-reused") == true)
            }
        }
    }

    @Test("an unknown error becomes a 500 problem that does not reveal its text")
    func unknownError() async throws {
        let response = try await get("/boom")
        #expect(response.status == .internalServerError)
        #expect(response.headers[.contentType] == "application/problem+json")
        let text = String(buffer: response.body)
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("db-internal"))
        let body = try json(response)
        #expect(body["status"] as? Int == 500)
        #expect(body["type"] as? String == "/problems/internal")
        #expect(body["requestId"] as? String == response.headers[Self.headerName])
    }

    @Test("an unreachable database is a 503 problem, without the server's text")
    func databaseDown() async throws {
        let response = try await get("/database-down")
        #expect(response.status == .serviceUnavailable)
        let body = try json(response)
        #expect(body["type"] as? String == "/problems/database-unavailable")
        #expect(!String(buffer: response.body).contains("db-internal"))
    }

    @Test("an unknown route is a 404 problem")
    func unknownRoute() async throws {
        let response = try await get("/no/such/route")
        #expect(response.status == .notFound)
        #expect(response.headers[.contentType] == "application/problem+json")
        let body = try json(response)
        #expect(body["status"] as? Int == 404)
        #expect(response.headers[Self.headerName] != nil)
    }

    @Test("a usable X-Request-ID is echoed and seen by the handler")
    func echoed() async throws {
        let response = try await get("/request-id", headers: [Self.headerName: "client-chosen.id_42"])
        #expect(response.status == .ok)
        #expect(response.headers[Self.headerName] == "client-chosen.id_42")
        #expect(String(buffer: response.body) == "client-chosen.id_42")
    }

    @Test("without an X-Request-ID a lowercase UUID is generated, returned and seen by the handler")
    func generated() async throws {
        try await application().test(.router) { client in
            var seen: Set<String> = []
            for _ in 0..<3 {
                let id = try await client.execute(uri: "/request-id", method: .get) { response in
                    let id = try #require(response.headers[Self.headerName])
                    #expect(UUID(uuidString: id) != nil, "\(id)")
                    #expect(id == id.lowercased())
                    #expect(String(buffer: response.body) == id)
                    return id
                }
                seen.insert(id)
            }
            #expect(seen.count == 3, "each request gets its own id")
        }
    }

    @Test(
        "an unusable X-Request-ID of at most 200 characters is replaced by a generated UUID (a longer one is a 400: RequestLimitsContractTests)",
        arguments: ["has space", "tab\there", "naïve"]
    )
    func replaced(value: String) async throws {
        let response = try await get("/ok", headers: [Self.headerName: value])
        #expect(response.status == .ok)
        let id = try #require(response.headers[Self.headerName])
        #expect(id != value)
        #expect(UUID(uuidString: id) != nil, "\(id)")
    }

    @Test(
        "a transient database failure or a broker outage is a 503 with Retry-After, its text not echoed",
        arguments: ["/database/57014", "/database/40P01", "/database/40001", "/database/25006", "/database/53300", "/pool-timeout", "/broker-down"])
    func transientFailures(path: String) async throws {
        let response = try await get(path)
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.retryAfter] == "1")
        let text = String(buffer: response.body)
        #expect(!text.contains("secret") && !text.contains("internal.example"))
    }

    @Test("an error that will happen again (a constraint) stays a 500 without Retry-After")
    func permanentFailure() async throws {
        let response = try await get("/database/23514")
        #expect(response.status == .internalServerError)
        #expect(response.headers[.retryAfter] == nil)
    }

    @Test("a dead-letter operation while another runs is a 409")
    func deadLettersBusy() async throws {
        let response = try await get("/dead-letters-busy")
        #expect(response.status == .conflict)
        #expect(try json(response)["type"] as? String == "/problems/dead-letters-busy")
    }
}
