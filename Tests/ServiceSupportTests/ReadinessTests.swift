import AMQP
import Logging
import Postgres
import TestSupport
import Testing

@testable import ServiceSupport

/// `/health/ready` is public: it says what is down, never libpq's text (found by a new user:
/// it returned the host, the address and the role).
@Suite("Readiness")
struct ReadinessTests {
    @Test("an unreachable database is down, with the kind of failure only: no host, address or role")
    func noLeak() async throws {
        let port = try freePort()
        let database = PostgresClient(
            configuration: PostgresConfiguration(connectionString: "postgres://secret_role:pw@127.0.0.1:\(port)/hidden_db", poolSize: 1),
            logger: TestEnvironment.logger)
        let publisher = AMQPPublisher(
            configuration: try AMQPConfiguration(url: "amqp://u:p@127.0.0.1:\(port)/%2F"),
            topology: AMQPTopology(exchanges: [], queues: [], bindings: []),
            logger: TestEnvironment.logger)
        let readiness = await Readiness.check(database: database, publisher: publisher)
        await database.close()
        #expect(!readiness.isReady)
        let detail = readiness.database.detail ?? ""
        #expect(detail == "unavailable (connectionFailed)", "\(detail)")
        for secret in ["secret_role", "hidden_db", "127.0.0.1", "\(port)"] {
            #expect(!detail.contains(secret), "\(detail)")
        }
        #expect(!readiness.broker.up)
    }
}
