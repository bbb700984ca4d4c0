import Testing

@testable import AMQP

@Suite struct AMQPConfigurationTests {
    @Test(
        "the URL sets host, port, user, password and virtual host (percent-decoded); what it leaves out has the defaults",
        arguments: [
            ("amqp://alice:s%40cret@broker.example:5673/%2F", "broker.example", 5673, "alice", "s@cret", "/"),
            ("amqp://localhost", "localhost", 5672, "guest", "guest", "/"),
            ("amqp://u:p@127.0.0.1:56729/replication", "127.0.0.1", 56729, "u", "p", "replication"),
        ]
    )
    func parsesTheURL(url: String, host: String, port: Int, user: String, password: String, virtualHost: String) throws {
        let configuration = try AMQPConfiguration(url: url)
        #expect(configuration.host == host)
        #expect(configuration.port == port)
        #expect(configuration.user == user)
        #expect(configuration.password == password)
        #expect(configuration.virtualHost == virtualHost)
    }

    @Test func appliesDefaultTimeouts() throws {
        let configuration = try AMQPConfiguration(url: "amqp://localhost")
        #expect(configuration.heartbeat == .seconds(30))
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.confirmTimeout == .seconds(10))
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
