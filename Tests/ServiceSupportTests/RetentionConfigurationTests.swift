import ServiceSupport
import Testing

/// The retention settings: a number and a unit, or `off`.
@Suite("Retention configuration")
struct RetentionConfigurationTests {
    @Test("the defaults keep published outbox rows and inbox rows 7 days, idempotency keys 24 hours")
    func defaults() throws {
        let retention = try ServiceConfiguration(service: .customerService, environment: withToken([:])).retention
        #expect(retention.outbox == .seconds(7 * 86_400))
        #expect(retention.inbox == .seconds(7 * 86_400))
        #expect(retention.idempotencyKeys == .seconds(86_400))
        #expect(retention.interval == .seconds(10))
    }

    @Test("a number and a unit (ms, s, m, h, d) sets it; off keeps the rows")
    func units() throws {
        let retention = try ServiceConfiguration(
            service: .orderService,
            environment: withToken([
                "OUTBOX_RETENTION": "90s", "INBOX_RETENTION": "off", "IDEMPOTENCY_KEY_RETENTION": "1.5h", "RETENTION_INTERVAL_MS": "250",
            ])
        ).retention
        #expect(retention.outbox == .seconds(90))
        #expect(retention.inbox == nil)
        #expect(retention.idempotencyKeys == .seconds(5400))
        #expect(retention.interval == .milliseconds(250))
        #expect(
            try ServiceConfiguration(service: .orderService, environment: withToken(["INBOX_RETENTION": "500ms"])).retention.inbox
                == .milliseconds(500))
    }

    @Test("anything else is a one-line error naming the variable", arguments: ["7 days", "7", "-1d", "d", "1w"])
    func invalid(value: String) {
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .customerService, environment: withToken(["OUTBOX_RETENTION": value]))
        }
    }
}
