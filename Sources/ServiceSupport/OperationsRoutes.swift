import Hummingbird
import Replication

/// The `operations` endpoints of openapi.yaml, the same in both services:
/// `GET /health/live`, `GET /health/ready`, `GET /replication/status`, `GET /metrics`.
///
/// They are plain Hummingbird routes rather than generated handlers so that one
/// implementation serves both services (each generated module has its own types).
enum OperationsRoutes {
    /// Adds the routes to `router`; `replicaTable` and `sourceTable` name the
    /// service's replica of the peer's records and its own records.
    static func register(on router: Router<BasicRequestContext>, runtime: ServiceRuntime, replicaTable: String, sourceTable: String) {
        let service = runtime.configuration.service.rawValue
        router.get("/health/live") { _, _ in
            HealthBody(status: "ok", service: service, database: nil, broker: nil)
        }
        router.get("/health/ready") { _, _ -> EditedResponse<HealthBody> in
            let readiness = await runtime.readiness()
            return EditedResponse(status: readiness.isReady ? .ok : .serviceUnavailable, response: HealthBody(readiness, service: service))
        }
        router.get("/replication/status") { _, _ in
            ReplicationStatusBody(try await ReplicationStatus.read(from: runtime.database, replicaTable: replicaTable, sourceTable: sourceTable))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ServiceMetrics.exposition()))
            )
        }
    }
}

/// `Health` of openapi.yaml.
struct HealthBody: ResponseEncodable {
    struct Dependency: Encodable {
        var status: String
        var detail: String?
    }

    var status: String
    var service: String
    var database: Dependency?
    var broker: Dependency?

    init(status: String, service: String, database: Dependency?, broker: Dependency?) {
        self.status = status
        self.service = service
        self.database = database
        self.broker = broker
    }

    init(_ readiness: Readiness, service: String) {
        self.init(
            status: readiness.isReady ? "ok" : "unavailable",
            service: service,
            database: Dependency(status: readiness.database.up ? "up" : "down", detail: readiness.database.detail),
            broker: Dependency(status: readiness.broker.up ? "up" : "down", detail: readiness.broker.detail)
        )
    }
}

/// `ReplicationStatus` of openapi.yaml.
struct ReplicationStatusBody: ResponseEncodable {
    struct Outbox: Encodable {
        var pending: Int64
        var oldestPendingAgeMs: Int64
        var lastPublishedSequence: Int64
    }

    struct Consumer: Encodable {
        var processed: Int64
        var duplicates: Int64
        var deadLettered: Int64
    }

    struct Digest: Encodable {
        var count: Int64
        var digest: String
    }

    var outbox: Outbox
    var consumer: Consumer
    var replica: Digest
    var source: Digest

    init(_ status: ReplicationStatus) {
        outbox = Outbox(
            pending: status.outbox.pending,
            oldestPendingAgeMs: status.outbox.oldestPendingAgeMs,
            lastPublishedSequence: status.outbox.lastPublishedSequence
        )
        consumer = Consumer(processed: status.processed, duplicates: status.duplicates, deadLettered: status.deadLettered)
        replica = Digest(count: status.replica.count, digest: status.replica.digest)
        source = Digest(count: status.source.count, digest: status.source.digest)
    }
}
