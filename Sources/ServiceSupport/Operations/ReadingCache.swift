import Replication
import Synchronization

/// The replication status, read at most once a second (see ``ReadingCache``).
typealias StatusCache = ReadingCache<ReplicationStatus>

/// A value read from the database at most once per ``maximumAge`` however many callers ask: a
/// caller gets the last reading while it is fresh, joins the reading in progress, or starts one.
/// So `/replication/status` and `/replication/digest` cost O(1) per call; their whole-table scans
/// run at most once per `maximumAge` (and only while someone asks), never once per caller.
final class ReadingCache<Value: Sendable>: Sendable {
    private struct State {
        var last: (value: Value, readAt: ContinuousClock.Instant)?
        var reading: Task<Value, any Error>?
    }

    private enum Next {
        case fresh(Value, age: Duration)
        case wait(Task<Value, any Error>)
    }

    /// How old a reading may be and still be served.
    let maximumAge: Duration
    private let read: @Sendable () async throws -> Value
    private let state = Mutex(State())

    init(maximumAge: Duration = .seconds(1), read: @escaping @Sendable () async throws -> Value) {
        self.maximumAge = maximumAge
        self.read = read
    }

    /// The value and how old the reading is.
    func value() async throws -> (value: Value, age: Duration) {
        let next: Next = state.withLock { state in
            let now = ContinuousClock.now
            if let last = state.last, now - last.readAt < maximumAge { return .fresh(last.value, age: now - last.readAt) }
            if let reading = state.reading { return .wait(reading) }
            let reading = Task {
                do {
                    let value = try await self.read()
                    self.state.withLock {
                        $0.last = (value, .now); $0.reading = nil
                    }
                    return value
                } catch {
                    self.state.withLock { $0.reading = nil }
                    throw error
                }
            }
            state.reading = reading
            return .wait(reading)
        }
        switch next {
        case .fresh(let value, let age):
            return (value, age)
        case .wait(let reading):
            return (try await reading.value, .zero)
        }
    }
}

extension ReadingCache where Value == ReplicationStatus {
    /// The status and how old the reading is.
    func status() async throws -> (status: ReplicationStatus, age: Duration) {
        let (value, age) = try await value()
        return (value, age)
    }
}

/// The digests of a service's tables, one ``ReadingCache`` per table and bucket count, with no
/// maximum age: callers that ask while a table is being read share that reading, so a table is
/// scanned by one query at a time however many ask, and a verifier still sees every change.
final class DigestCache: Sendable {
    /// A table's record count and its buckets' digests.
    typealias Digest = (count: Int64, buckets: [TableDigest])

    private struct Box: Sendable {
        var digest: Digest
    }

    private let caches = Mutex<[String: ReadingCache<Box>]>([:])

    /// The digest of `table` in `buckets`, read by `read` unless a fresh reading exists.
    func digest(
        of table: String, buckets: Int, read: @escaping @Sendable () async throws -> Digest
    ) async throws -> (digest: Digest, age: Duration) {
        let cache = caches.withLock { caches in
            let key = "\(table)/\(buckets)"
            if let cache = caches[key] { return cache }
            let cache = ReadingCache<Box>(maximumAge: .zero) { Box(digest: try await read()) }
            caches[key] = cache
            return cache
        }
        let (box, age) = try await cache.value()
        return (box.digest, age)
    }
}
