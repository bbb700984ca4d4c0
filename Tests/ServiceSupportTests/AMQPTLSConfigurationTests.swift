import AMQP
import Foundation
import ServiceSupport
import Testing

/// `AMQP_TLS_*`: the files of an `amqps://` `AMQP_URL`, checked when the service starts.
@Suite("AMQP TLS configuration")
struct AMQPTLSConfigurationTests {
    /// A file that exists and can be read (its content does not matter until a connection loads it).
    private let readable = #filePath

    @Test("amqps:// with the CA and a client certificate")
    func amqpsWithFiles() throws {
        let configuration = try ServiceConfiguration(
            service: .customerService,
            environment: withToken([
                "AMQP_URL": "amqps://customer-service:pw@broker.internal/%2F", "AMQP_TLS_CA_FILE": readable,
                "AMQP_TLS_CERT_FILE": readable, "AMQP_TLS_KEY_FILE": readable,
            ]))
        #expect(configuration.amqp.endpoints == [.init(host: "broker.internal", port: 5671)])
        #expect(configuration.amqp.tls == AMQPConfiguration.TLS(caFile: readable, certificateFile: readable, keyFile: readable))
    }

    @Test("amqps:// without AMQP_TLS_CA_FILE trusts the system's CAs; amqp:// has no TLS")
    func defaults() throws {
        let secure = try ServiceConfiguration(service: .orderService, environment: withToken(["AMQP_URL": "amqps://broker/"]))
        #expect(secure.amqp.tls == AMQPConfiguration.TLS())
        #expect(try ServiceConfiguration(service: .orderService, environment: withToken([:])).amqp.tls == nil)
    }

    @Test(
        "a TLS file for an amqp:// URL is refused, naming the variable: it would silently go unused",
        arguments: ["AMQP_TLS_CA_FILE", "AMQP_TLS_CERT_FILE", "AMQP_TLS_KEY_FILE"])
    func fileWithoutAMQPS(variable: String) throws {
        let error = try configurationError(["AMQP_URL": "amqp://u:s3cret@broker/", variable: readable])
        #expect(error.variable == variable)
        #expect(error.description.contains("amqps://"), "\(error)")
        #expect(!error.description.contains("s3cret"), "\(error)")
    }

    @Test("a file that cannot be read is refused at start, naming the variable")
    func unreadableFile() throws {
        let error = try configurationError(["AMQP_URL": "amqps://broker/", "AMQP_TLS_CA_FILE": "/nonexistent/ca.crt"])
        #expect(error.variable == "AMQP_TLS_CA_FILE")
        #expect(error.description == "invalid AMQP_TLS_CA_FILE=\"/nonexistent/ca.crt\": cannot be read (no such file, or no permission)")
    }

    @Test(
        "a client certificate needs its key and the other way round",
        arguments: [("AMQP_TLS_CERT_FILE", "AMQP_TLS_KEY_FILE"), ("AMQP_TLS_KEY_FILE", "AMQP_TLS_CERT_FILE")])
    func certificateAndKeyTogether(given: String, missing: String) throws {
        let error = try configurationError(["AMQP_URL": "amqps://broker/", given: readable])
        #expect(error.variable == missing)
        #expect(error.description.contains(given), "\(error)")
    }

    private func configurationError(_ environment: [String: String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigurationError {
        try #require(throws: ConfigurationError.self, sourceLocation: sourceLocation) {
            try ServiceConfiguration(service: .customerService, environment: withToken(environment))
        }
    }
}
