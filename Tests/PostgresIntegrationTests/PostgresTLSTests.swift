import Foundation
import Postgres
import TestSupport
import Testing

/// TLS to PostgreSQL is libpq's own (`sslmode`, `sslrootcert` in the URL): against the TLS
/// server of `scripts/local-servers start --tls`, `verify-full` connects while another CA,
/// another host name or plaintext is refused.
@Suite("PostgreSQL over TLS")
struct PostgresTLSTests {
    @Test("sslmode=verify-full with the CA connects, and the server sees a TLS session")
    func verifyFullConnects() async throws {
        let configuration = PostgresConfiguration(connectionString: try TestTLS.databaseURL(), poolSize: 1)
        try await TestDatabase.withClient(configuration) { client in
            let row = try #require(try await client.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first)
            #expect(try row.decode("ssl", as: Bool.self) == true)
            #expect(try row.decode("version", as: String.self).hasPrefix("TLSv1."))
        }
    }

    @Test("a CA that did not sign the server's certificate is refused, and libpq says why")
    func wrongCAIsRefused() async throws {
        let url = try TestTLS.databaseURL().replacingOccurrences(of: try TestTLS.caFile(), with: try TestTLS.file("other-ca.crt"))
        let error = try await connectionError(url)
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("certificate verify failed"), "\(error)")
    }

    @Test("a host name the certificate does not carry is refused under verify-full")
    func wrongHostIsRefused() async throws {
        // The server listens on 127.0.0.1; hostaddr connects there while libpq checks the name in host.
        let url = try TestTLS.databaseURL().replacingOccurrences(of: "sslmode=", with: "hostaddr=127.0.0.1&sslmode=")
            .replacingOccurrences(of: "@127.0.0.1:", with: "@db.invalid:")
        let error = try await connectionError(url)
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("does not match host name"), "\(error)")
    }

    @Test("plaintext is refused by the server (hostssl only)")
    func plaintextIsRefused() async throws {
        let url = try TestTLS.databaseURL().replacingOccurrences(of: "sslmode=verify-full", with: "sslmode=disable")
        let error = try await connectionError(url)
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("no encryption"), "\(error)")
    }

    private func connectionError(_ url: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PostgresError {
        let configuration = PostgresConfiguration(connectionString: url, poolSize: 1)
        return try await TestDatabase.withClient(configuration) { client in
            do {
                _ = try await client.query("SELECT 1")
            } catch let error as PostgresError {
                return error
            }
            Issue.record("the connection was not refused", sourceLocation: sourceLocation)
            return PostgresError(code: .unsupported, message: "connected")
        }
    }
}
