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
        try await expectRefused(url, because: "certificate verify failed")
    }

    @Test("a host name the certificate does not carry is refused under verify-full")
    func wrongHostIsRefused() async throws {
        // The server listens on 127.0.0.1; hostaddr connects there while libpq checks the name in host.
        let url = try TestTLS.databaseURL().replacingOccurrences(of: "sslmode=", with: "hostaddr=127.0.0.1&sslmode=")
            .replacingOccurrences(of: "@127.0.0.1:", with: "@db.invalid:")
        try await expectRefused(url, because: "does not match host name")
    }

    @Test("plaintext is refused by the server (hostssl only)")
    func plaintextIsRefused() async throws {
        let url = try TestTLS.databaseURL().replacingOccurrences(of: "sslmode=verify-full", with: "sslmode=disable")
        try await expectRefused(url, because: "no encryption")
    }

    /// Expects a connection to `url` to fail with `.connectionFailed`, libpq's message containing `reason`.
    private func expectRefused(_ url: String, because reason: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let configuration = PostgresConfiguration(connectionString: url, poolSize: 1)
        try await TestDatabase.withClient(configuration) { client in
            do {
                _ = try await client.query("SELECT 1")
                Issue.record("the connection was not refused", sourceLocation: sourceLocation)
            } catch let error as PostgresError {
                #expect(error.code == .connectionFailed, sourceLocation: sourceLocation)
                #expect(error.message.contains(reason), "\(error)", sourceLocation: sourceLocation)
            }
        }
    }
}
