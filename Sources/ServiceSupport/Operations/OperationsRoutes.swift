import AMQP
import Hummingbird
import Postgres
import Replication

/// The `operations` endpoints of openapi.yaml, the same in both services:
/// `GET /health/live`, `GET /health/ready`, `GET /replication/status`,
/// `POST /replication/outbox/retry-parked`, `GET /replication/digest`, `GET /replication/records`,
/// `POST /replication/resync`, `GET /replication/resync/{id}`, `GET /replication/dead-letters`,
/// `POST /replication/dead-letters/replay` and `…/discard`, `GET /trace/{requestId}`, `GET /metrics`.
///
/// They are plain Hummingbird routes rather than generated handlers so that one
/// implementation serves both services (each generated module has its own types).
/// ``ReplicatingService`` makes them with the memberwise initializer; the table names
/// are trusted constants.
public struct OperationsRoutes: Sendable {
    /// The service's name, in the health bodies.
    public var service: String
    /// The service's database.
    public var database: PostgresClient
    /// The service's publisher (readiness reports its connection).
    public var publisher: AMQPPublisher
    /// The service's own table (what the peer replicates).
    public var ownTable: String
    /// The tombstones of the service's deleted records, if it deletes any.
    public var tombstoneTable: String?
    /// The service's replica of the peer's records.
    public var replicaTable: String
    /// The resyncs of its own records to a subscriber.
    public var resync: any ResyncJobs
    /// Its dead-letter queue.
    public var deadLetters: DeadLetters
    /// The depths of its queue and dead-letter queue, for the status.
    public var queueDepths: QueueDepths

    /// Adds the routes to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/health/live") { [service] _, _ in
            HealthBody(status: "ok", service: service, database: nil, broker: nil)
        }
        router.get("/health/ready") { _, _ -> EditedResponse<HealthBody> in
            let readiness = await Readiness.check(database: database, publisher: publisher)
            return EditedResponse(status: readiness.isReady ? .ok : .serviceUnavailable, response: HealthBody(readiness, service: service))
        }
        let statusCache = StatusCache { [database, replicaTable, ownTable, queueDepths] in
            async let queues = queueDepths.read()
            var status = try await ReplicationStatus.read(from: database, replicaTable: replicaTable, sourceTable: ownTable)
            status.queues = await queues
            return status
        }
        router.get("/replication/status") { _, _ in
            let (status, age) = try await statusCache.status()
            return ReplicationStatusBody(status, age: age)
        }
        router.post("/replication/outbox/retry-parked") { _, _ in
            RetriedBody(retried: try await Outbox.retryParked(on: database))
        }
        RecordVersionsRoutes(
            database: database,
            tables: ["own": .own(table: ownTable, tombstones: tombstoneTable), "replica": .replica(table: replicaTable)]
        ).register(on: router)
        ResyncRoutes(resync: resync).register(on: router)
        DeadLetterRoutes(deadLetters: deadLetters).register(on: router)
        TraceRoutes(trace: Trace(service: service, database: database, deadLetters: deadLetters)).register(on: router)
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ServiceMetrics.exposition()))
            )
        }
    }
}
