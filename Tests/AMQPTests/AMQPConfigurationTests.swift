import Testing

@testable import AMQP

@Suite struct AMQPConfigurationTests {
    @Test(
        "the URL sets host, port, user, password and virtual host (percent-decoded); what it leaves out has the defaults",
        arguments: [
            ("amqp://alice:s%40cret@broker.example:5673/%2F", "broker.example", 5673, "alice", "s@cret", "/"),
            ("amqp://localhost", "localhost", 5672, "guest", "guest", "/"),
            ("amqp://u:p@127.0.0.1:56729/replication", "127.0.0.1", 56729, "u", "p", "replication"),
            ("amqps://alice:pw@broker.example/%2F", "broker.example", 5671, "alice", "pw", "/"),
            ("AMQPS://u:p@[::1]:5999/prod", "::1", 5999, "u", "p", "prod"),
        ]
    )
    func parsesTheURL(url: String, host: String, port: Int, user: String, password: String, virtualHost: String) throws {
        let configuration = try AMQPConfiguration(url: url)
        #expect(configuration.endpoints == [.init(host: host, port: port)])
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
        "amqpx://localhost/",
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

    // MARK: A list of nodes

    @Test("a comma-separated list becomes the endpoints in order; whitespace around the commas is ignored")
    func parsesAListOfNodes() throws {
        let configuration = try AMQPConfiguration(
            url: "amqp://u:p%2Cw@127.0.0.1:5672/%2F, amqp://u:p%2Cw@127.0.0.1:5682/%2F ,\tamqp://u:p%2Cw@node3/%2F")
        #expect(
            configuration.endpoints == [
                .init(host: "127.0.0.1", port: 5672), .init(host: "127.0.0.1", port: 5682), .init(host: "node3", port: 5672),
            ])
        #expect(configuration.user == "u")
        #expect(configuration.password == "p,w", "a comma inside a URL is written %2C")
        #expect(configuration.virtualHost == "/")
    }

    @Test("URLs that leave out the same parts agree: the defaults count")
    func defaultsCountWhenComparingNodes() throws {
        let configuration = try AMQPConfiguration(url: "amqp://a,amqp://guest:guest@b:5673/%2F")
        #expect(configuration.endpoints == [.init(host: "a"), .init(host: "b", port: 5673)])
    }

    @Test(
        "a list with an empty element is refused, naming its position",
        arguments: [
            ("amqp://u:p@a/,,amqp://u:p@b/", "node 2 of 3"),
            ("amqp://u:p@a/,amqp://u:p@b/,", "node 3 of 3"),
            (",amqp://u:p@a/", "node 1 of 2"),
            ("amqp://u:p@a/, ,amqp://u:p@b/", "node 2 of 3"),
        ])
    func refusesEmptyElements(url: String, position: String) {
        expectRefused(url, mentioning: ["\(position) in the URL list is empty", "amqp://u:***@a/"], hiding: [":p@"])
    }

    @Test(
        "a malformed element is refused, naming its position and showing it redacted",
        arguments: [
            ("amqp://u:secret@a/,amqpx://u:secret@b/", "node 2 of 2", "amqpx://u:***@b/"),
            ("amqp://u:secret@a:99999/,amqp://u:secret@b/", "node 1 of 2", "amqp://u:***@a:99999/"),
            ("amqp://u:secret@a/,amqp://u:secret@b/x/y", "node 2 of 2", "amqp://u:***@b/x/y"),
            ("amqp://u:secret@a/,b:5672", "node 2 of 2", "b:5672"),
        ])
    func refusesMalformedElements(url: String, position: String, shown: String) {
        expectRefused(url, mentioning: [position, shown], hiding: ["secret"])
    }

    @Test("a password with a raw comma splits the URL: the error says to write %2C and shows neither half of the password")
    func rawCommaInAPassword() {
        expectRefused("amqp://u:first,half@a/", mentioning: ["%2C"], hiding: ["first", "half"])
    }

    @Test(
        "every URL of a list must share user, password and vhost; the error names what differs, never a password",
        arguments: [
            ("amqp://u:secret@a/%2F,amqp://v:secret@b/%2F", "user ('v', not 'u')"),
            ("amqp://u:secret@a/%2F,amqp://u:other@b/%2F", "password"),
            ("amqp://u:secret@a/%2F,amqp://u:secret@b/prod", "vhost ('prod', not '/')"),
            ("amqp://u:secret@a/%2F,amqp://u:secret@b/%2F,amqp://u:secret@c/staging", "vhost ('staging', not '/')"),
        ])
    func refusesNodesThatDisagree(url: String, difference: String) {
        expectRefused(url, mentioning: ["differs from node 1 in its \(difference)"], hiding: ["secret", "other"])
    }

    @Test("a node listed twice is refused (it would only be tried twice per round)")
    func refusesDuplicateNodes() {
        expectRefused(
            "amqp://u:p@Broker:5672/,amqp://u:p@b2/,amqp://u:p@broker/", mentioning: ["node 3 of 3 in the URL list (broker:5672) repeats node 1"])
    }

    @Test(
        "redacted hides every password of a list, and the halves of one that held a raw comma",
        arguments: [
            ("amqp://u:p1@a:1/%2F, amqp://u:p2@b:2/%2F", "amqp://u:***@a:1/%2F, amqp://u:***@b:2/%2F"),
            ("amqp://a:5672,amqp://u:p2@b/", "amqp://a:5672,amqp://u:***@b/"),
            ("amqp://u:first,half@a/", "amqp://u:***,***@a/"),
            ("amqp://u:p@a/,,", "amqp://u:***@a/,,"),
        ])
    func redactsAList(url: String, redacted: String) {
        #expect(AMQPConfiguration.redacted(url) == redacted)
    }

    /// Expects `url` to be refused with `.invalidConfiguration`, in a message that contains each
    /// text of `mentions` and none of `secrets`.
    private func expectRefused(
        _ url: String, mentioning mentions: [String], hiding secrets: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error: AMQPError
        do {
            let configuration = try AMQPConfiguration(url: url)
            Issue.record("accepted \(configuration.endpoints)", sourceLocation: sourceLocation)
            return
        } catch let refusal as AMQPError {
            error = refusal
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == .invalidConfiguration, sourceLocation: sourceLocation)
        for text in mentions {
            #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        }
        for secret in secrets {
            #expect(!error.message.contains(secret), "\(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: TLS

    @Test("amqps:// turns TLS on (the system's CAs, no client certificate, port 5671); amqp:// leaves it off")
    func schemeChoosesTLS() throws {
        let secure = try AMQPConfiguration(url: "amqps://u:p@a/%2F, amqps://u:p@b:5999/%2F")
        #expect(secure.tls == AMQPConfiguration.TLS())
        #expect(secure.tls?.caFile == nil)
        #expect(secure.endpoints == [.init(host: "a", port: 5671), .init(host: "b", port: 5999)])
        #expect(try AMQPConfiguration(url: "amqp://u:p@a/").tls == nil)
        #expect(AMQPConfiguration().tls == nil)
    }

    @Test("a list that mixes amqp:// and amqps:// is refused: one node must not silently go without TLS")
    func mixedSchemesAreRefused() {
        expectRefused(
            "amqps://u:secret@a/,amqp://u:secret@b/", mentioning: ["differs from node 1 in its scheme (amqp://, not amqps://)"], hiding: ["secret"])
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
