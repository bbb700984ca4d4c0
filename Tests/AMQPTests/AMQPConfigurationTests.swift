import Testing

@testable import AMQP

@Suite struct AMQPConfigurationTests {
    @Test func parsesAFullURLWithPercentEncodedVirtualHost() throws {
        let configuration = try AMQPConfiguration(url: "amqp://alice:s%40cret@broker.example:5673/%2F")
        #expect(configuration.host == "broker.example")
        #expect(configuration.port == 5673)
        #expect(configuration.user == "alice")
        #expect(configuration.password == "s@cret")
        #expect(configuration.virtualHost == "/")
    }

    @Test func appliesDefaults() throws {
        let configuration = try AMQPConfiguration(url: "amqp://localhost")
        #expect(configuration.host == "localhost")
        #expect(configuration.port == 5672)
        #expect(configuration.user == "guest")
        #expect(configuration.password == "guest")
        #expect(configuration.virtualHost == "/")
        #expect(configuration.heartbeat == .seconds(30))
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.confirmTimeout == .seconds(10))
    }

    @Test func keepsANamedVirtualHost() throws {
        let configuration = try AMQPConfiguration(url: "amqp://u:p@127.0.0.1:56729/replication")
        #expect(configuration.virtualHost == "replication")
        #expect(configuration.port == 56729)
    }

    @Test(arguments: [
        "http://localhost/",
        "amqps://localhost/",
        "amqp://",
        "amqp://host:99999/",
        "amqp://host/a/b",
        "amqp://host/vhost?heartbeat=10",
        "not a url",
    ])
    func rejectsInvalidURLs(url: String) {
        #expect {
            try AMQPConfiguration(url: url)
        } throws: { error in
            (error as? AMQPError)?.code == .invalidConfiguration
        }
    }

    @Test func errorMessagesDoNotLeakThePassword() {
        #expect(AMQPConfiguration.redacted("amqp://u:topsecret@h/") == "amqp://u:***@h/")
    }

    @Test func backoffDoublesUpToTheCapWithJitter() {
        var configuration = AMQPConfiguration()
        configuration.reconnectInitialDelay = .milliseconds(100)
        configuration.reconnectMaximumDelay = .seconds(10)
        let backoff = configuration.reconnectBackoff
        #expect(backoff.delay(afterFailures: 0) == .zero)
        for _ in 0..<20 {
            let first = backoff.delay(afterFailures: 1)
            #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
            let fourth = backoff.delay(afterFailures: 4)
            #expect(fourth >= .milliseconds(400) && fourth <= .milliseconds(800))
            let capped = backoff.delay(afterFailures: 40)
            #expect(capped >= .seconds(5) && capped <= .seconds(10))
        }
    }
}
