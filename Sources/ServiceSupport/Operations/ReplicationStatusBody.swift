import Hummingbird
import Replication

/// `ReplicationStatus` of openapi.yaml.
struct ReplicationStatusBody: ResponseEncodable {
    struct Consumer: Encodable {
        var processed: Int64
        var duplicates: Int64
        var deadLettered: Int64
    }

    struct Digest: Encodable {
        var count: Int64
        var digest: String

        init(_ table: TableDigest) {
            count = table.count
            digest = table.digest
        }
    }

    /// `queue` of openapi.yaml: what waits at the broker.
    struct Queues: Encodable {
        var depth: Int
        var deadLetters: Int
    }

    var outbox: OutboxBacklog
    var consumer: Consumer
    /// Absent when the broker did not answer.
    var queue: Queues?
    var replica: Digest
    var source: Digest
    /// How old the reading is (statuses are read at most once a second, however many callers ask).
    var ageMs: Int64

    init(_ status: ReplicationStatus, age: Duration) {
        ageMs = age.components.seconds * 1000 + age.components.attoseconds / 1_000_000_000_000_000
        outbox = status.outbox
        consumer = Consumer(processed: status.processed, duplicates: status.duplicates, deadLettered: status.deadLettered)
        replica = Digest(status.replica)
        source = Digest(status.source)
        queue = status.queues.map { Queues(depth: $0.queue, deadLetters: $0.deadLetters) }
    }
}
