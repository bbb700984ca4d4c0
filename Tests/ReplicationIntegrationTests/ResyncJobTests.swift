import AMQP
import Contract
import Foundation
import Postgres
import Replication
import TestSupport
import Testing

/// Resync jobs end however their instance ends: a job whose instance lost its database or
/// stopped is dead once its heartbeat is stale and blocks nothing, a live job of another
/// instance survives an instance's start-up, and finished jobs are pruned.
@Suite("Resync jobs (PostgreSQL + RabbitMQ)")
struct ResyncJobTests {
    static let subscriber = "order-service"

    /// A resync of `database` into `queue` whose jobs wait while `queue` holds a message (`maxQueued` 0).
    static func resync(_ names: ReplicationNames, queue: String, database: PostgresClient) throws -> Resync<CustomerRecord> {
        var configuration = Resync<CustomerRecord>.Configuration(
            table: "customers", tombstones: nil, queue: { _ in queue }, appID: "customer-service", userID: nil,
            subscribers: [subscriber], maxQueued: 0, pollInterval: .milliseconds(20))
        configuration.heartbeatInterval = .milliseconds(100)
        configuration.staleAfter = .seconds(1)
        let amqp = try TestEnvironment.amqpConfiguration()
        return Resync(
            configuration: configuration, database: database, publisher: customerEventsPublisher(names, amqp), amqp: amqp,
            logger: TestEnvironment.logger)
    }

    /// A queue holding one message: a job for it waits for room, running, until the queue goes.
    static func fullQueue(_ queue: String, on connection: AMQPConnection) async throws {
        try await connection.declare(AMQPTopology(queues: [.quorum(name: queue)]))
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Array("{}".utf8)))
    }

    @Test("a job whose instance lost its database while the job failed does not block the next resync")
    func jobOfALostInstanceDoesNotBlock() async throws {
        try await withDatabaseAndBroker(extraQueues: ["resync-target"]) { names, database, connection in
            let queue = names.prefix + "resync-target"
            try await Self.fullQueue(queue, on: connection)
            let lost = PostgresClient(configuration: database.configuration, logger: TestEnvironment.logger)
            let stranded = try await Self.resync(names, queue: queue, database: lost).start(subscriber: Self.subscriber, ids: [UUID()])
            try await Task.sleep(for: .milliseconds(300))
            // Its instance loses the database, then the job fails (its queue is gone): nothing can record that.
            await lost.close()
            try await connection.delete(queue: queue)

            let resync = try Self.resync(names, queue: queue, database: database)
            let started = try await eventually(timeout: .seconds(10), pollEvery: .milliseconds(100)) {
                do {
                    _ = try await resync.start(subscriber: Self.subscriber, ids: [UUID()])
                    return true
                } catch ResyncError.alreadyRunning {
                    return false
                }
            }
            #expect(started, "the stranded job still blocks its subscriber")
            let job = try #require(try await resync.job(id: stranded.id))
            #expect(job.state == .failed)
            #expect(job.error?.contains("abandoned") == true, "\(job.error ?? "no error")")
        }
    }

    @Test("an instance that starts leaves the running job of another live instance alone")
    func startUpLeavesLiveJobsAlone() async throws {
        try await withDatabaseAndBroker(extraQueues: ["resync-target"]) { names, database, connection in
            let queue = names.prefix + "resync-target"
            try await Self.fullQueue(queue, on: connection)
            let running = try Self.resync(names, queue: queue, database: database)
            let job = try await running.start(subscriber: Self.subscriber, ids: [UUID()])

            // Another instance starts, now and after longer than the bound on a heartbeat's age.
            let starting = try Self.resync(names, queue: queue, database: database)
            try await starting.failInterrupted()
            #expect(try await starting.job(id: job.id)?.state == .running, "a live job was marked failed by another instance's start-up")
            try await Task.sleep(for: .milliseconds(1500))
            try await starting.failInterrupted()
            #expect(try await starting.job(id: job.id)?.state == .running, "a live job's heartbeat went stale")
            await #expect(throws: ResyncError.alreadyRunning(subscriber: Self.subscriber)) {
                try await starting.start(subscriber: Self.subscriber, ids: nil)
            }

            // The job ends when its queue goes.
            try await connection.delete(queue: queue)
            let ended = try await eventually { try await running.job(id: job.id)?.state != .running }
            #expect(ended)
        }
    }

    @Test("resync jobs that ended longer ago than the retention are deleted; recent and running ones are kept")
    func oldJobsArePruned() async throws {
        try await withTestDatabase { database, _ in
            let (old, recent, running) = (UUID(), UUID(), UUID())
            try await database.query(
                """
                INSERT INTO resync_jobs (id, subscriber, queue, state, total, started_at, finished_at) VALUES
                    ($1, 'a', 'q', 'done', 1, now() - interval '10 days', now() - interval '10 days'),
                    ($2, 'b', 'q', 'failed', 1, now() - interval '1 hour', now() - interval '1 hour'),
                    ($3, 'c', 'q', 'running', 1, now() - interval '10 days', NULL)
                """, [old, recent, running])
            _ = try await Retention(configuration: .init(), database: database, logger: TestEnvironment.logger).prune()
            let kept = try await database.query("SELECT id FROM resync_jobs").map { try $0.decode(0, as: UUID.self) }
            #expect(Set(kept) == [recent, running])
        }
    }
}
