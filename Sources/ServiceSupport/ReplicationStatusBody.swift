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

    var outbox: OutboxBacklog
    var consumer: Consumer
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
    }
}
