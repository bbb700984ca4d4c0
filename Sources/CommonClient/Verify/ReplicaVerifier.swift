import Foundation

/// Compares each service's own records with its peer's replica (docs/design.md#repair): the bucketed
/// digests of `(id, version, deleted, content)` first, then the records of only the buckets that differ.
/// What differs is checked again for a short while, as records still in flight settle.
struct ReplicaVerifier: Sendable {
    /// One direction of replication: `records` owned by `source`, replicated by `replica`.
    struct Direction: Sendable {
        var records: String
        var source: ServiceClients.Service
        var replica: ServiceClients.Service

        /// The replica's service as a resync names its subscriber.
        var subscriber: String { replica == .customerService ? "customer-service" : "order-service" }

        /// Customers (CustomerService → OrderService), then orders (OrderService → CustomerService).
        static let both = [
            Direction(records: "customers", source: .customerService, replica: .orderService),
            Direction(records: "orders", source: .orderService, replica: .customerService),
        ]
    }

    /// A record whose replica differs from its source.
    struct Difference: Codable, Sendable, Hashable {
        enum Kind: String, Codable, Sendable {
            /// The replica does not have it (a deleted record: not its tombstone).
            case missing
            /// The replica has an older version.
            case stale
            /// The replica has it, the source does not.
            case extra
            /// The replica has a version the source has not reached, or the same version in another
            /// state or with other content.
            case mismatched
        }

        var kind: Kind
        var id: String
        var source: VersionedID?
        var replica: VersionedID?
    }

    /// What one direction's comparison found.
    struct Report: Codable, Sendable {
        var records: String
        var source: String
        var replica: String
        /// Records (tombstones included) at the source and in the replica.
        var sourceCount: Int64
        var replicaCount: Int64
        /// What stayed different after settling, by id.
        var differences: [Difference]
        var equal: Bool { differences.isEmpty }
        /// The ids a repair resync from the source mends: all of them (an extra one becomes a tombstone).
        var repairable: [String] { differences.map(\.id) }
    }

    let clients: ServiceClients
    /// Buckets per digest (a power of two, 1...4096).
    var buckets = 256
    /// How long a difference may take to go away (records in flight) before it counts.
    var settle: Duration = .seconds(5)

    /// Compares `direction`'s source and replica.
    func verify(_ direction: Direction) async throws -> Report {
        var report = try await compare(direction, within: nil)
        let deadline = ContinuousClock.now + settle
        while !report.differences.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            let buckets = Set(report.differences.map { Self.bucket(of: $0.id, among: self.buckets) })
            let again = try await compare(direction, within: buckets)
            // Only what was different before and still is counts: a newer difference is a record in flight.
            let before = Set(report.differences.map(\.id))
            report = again
            report.differences = again.differences.filter { before.contains($0.id) }
        }
        return report
    }

    /// The differences in `buckets` (all when nil), with the records' counts.
    private func compare(_ direction: Direction, within only: Set<Int>?) async throws -> Report {
        async let sourceDigest = clients.recordDigest(of: direction.source, table: .own, buckets: buckets)
        async let replicaDigest = clients.recordDigest(of: direction.replica, table: .replica, buckets: buckets)
        let (source, replica) = try await (sourceDigest, replicaDigest)
        var differences: [Difference] = []
        for bucket in 0..<buckets where only?.contains(bucket) ?? true {
            guard source.buckets[bucket] != replica.buckets[bucket] else { continue }
            async let sourceRecords = clients.recordVersions(of: direction.source, table: .own, bucket: bucket, of: buckets)
            async let replicaRecords = clients.recordVersions(of: direction.replica, table: .replica, bucket: bucket, of: buckets)
            differences += Self.differences(source: try await sourceRecords, replica: try await replicaRecords)
        }
        return Report(
            records: direction.records, source: direction.source.displayName, replica: direction.replica.displayName,
            sourceCount: source.count, replicaCount: replica.count, differences: differences.sorted { $0.id < $1.id })
    }

    /// The records of one bucket whose replica differs from the source.
    static func differences(source: [VersionedID], replica: [VersionedID]) -> [Difference] {
        let replicated = Dictionary(replica.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let owned = Set(source.map(\.id))
        var differences: [Difference] = []
        for record in source {
            guard let copy = replicated[record.id] else {
                differences.append(Difference(kind: .missing, id: record.id, source: record, replica: nil))
                continue
            }
            if copy.version < record.version {
                differences.append(Difference(kind: .stale, id: record.id, source: record, replica: copy))
            } else if copy != record {
                differences.append(Difference(kind: .mismatched, id: record.id, source: record, replica: copy))
            }
        }
        // A tombstone of a record the source never had is what a repair leaves of an extra record: it is not live.
        for copy in replica where !owned.contains(copy.id) && !copy.deleted {
            differences.append(Difference(kind: .extra, id: copy.id, source: nil, replica: copy))
        }
        return differences
    }

    /// The bucket of the id `text` among `buckets`: its first `log2(buckets)` bits.
    static func bucket(of text: String, among buckets: Int) -> Int {
        let prefix = Int(text.prefix(4), radix: 16) ?? 0
        return prefix >> (16 - buckets.trailingZeroBitCount)
    }
}
