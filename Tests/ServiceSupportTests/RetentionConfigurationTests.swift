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

    @Test("finished resync jobs are kept 7 days; a nacked outbox row is parked after 10 minutes of refusals; both can be set or off")
    func resyncJobsAndParking() throws {
        let defaults = try ServiceConfiguration(service: .customerService, environment: withToken([:]))
        #expect(defaults.retention.resyncJobs == .seconds(7 * 86_400))
        #expect(defaults.relay.parkAfter == .seconds(600))
        let set = try ServiceConfiguration(
            service: .orderService, environment: withToken(["RESYNC_JOB_RETENTION": "2h", "OUTBOX_PARK_AFTER": "90s"]))
        #expect(set.retention.resyncJobs == .seconds(7200))
        #expect(set.relay.parkAfter == .seconds(90))
        let off = try ServiceConfiguration(
            service: .orderService, environment: withToken(["RESYNC_JOB_RETENTION": "off", "OUTBOX_PARK_AFTER": "off"]))
        #expect(off.retention.resyncJobs == nil)
        #expect(off.relay.parkAfter == nil)
    }

    @Test("anything else is a one-line error naming the variable", arguments: ["7 days", "7", "-1d", "d", "1w"])
    func invalid(value: String) {
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(service: .customerService, environment: withToken(["OUTBOX_RETENTION": value]))
        }
    }
}
