import Foundation
import Histogram

/// What a load test measured and whether the system converged: printed as text
/// by ``text()``, written as JSON (with every record's timestamps) by `--json`.
public struct LoadTestReport: Codable, Sendable {
    /// Percentiles of a distribution, in milliseconds.
    public struct Percentiles: Codable, Sendable {
        /// How many values.
        public var count: Int
        /// Median.
        public var p50: Double
        /// 90th percentile.
        public var p90: Double
        /// 99th percentile.
        public var p99: Double
        /// Largest value.
        public var max: Double
        /// Arithmetic mean.
        public var mean: Double

        /// The percentiles of a histogram of microseconds, in milliseconds.
        init(microseconds histogram: Histogram<UInt64>) {
            count = Int(histogram.totalCount)
            p50 = Double(histogram.valueAtPercentile(50)) / 1000
            p90 = Double(histogram.valueAtPercentile(90)) / 1000
            p99 = Double(histogram.valueAtPercentile(99)) / 1000
            max = Double(histogram.max) / 1000
            mean = histogram.totalCount == 0 ? 0 : histogram.mean / 1000
        }
    }

    /// One operation's throughput and latency.
    public struct Operation: Codable, Sendable {
        /// Successful requests.
        public var succeeded: Int
        /// Failed requests (422 unknown-customer retries, and orders refused for a customer the run deleted, not counted).
        public var failed: Int
        /// Successful requests per second of load.
        public var requestsPerSecond: Double
        /// Latency of the successful requests.
        public var latencyMs: Percentiles
        /// For a change (update, delete, cancel): its replication lag, as in
        /// ``Replication/changeLagMs``; nil for a create (see ``Replication/lagMs``) and when none was measured.
        public var replicationLagMs: Percentiles?
        /// For a change: how many of its figures are only bounds (a later version showed
        /// before the probe read it), left out of ``replicationLagMs``.
        public var boundedLags: Int?
    }

    /// One direction of replication, checked record by record and by digest.
    public struct Replication: Codable, Sendable {
        /// The records this run created at the source.
        public var created: Int
        /// Of those, how many the peer's replica holds at the version the source last answered
        /// (with the same `createdAt`).
        public var present: Int
        /// Of those, how many this run deleted and the peer's replica no longer has, as it should.
        public var deleted: Int
        /// Ids missing from the peer's replica after the wait (lost).
        public var missing: [String]
        /// Ids the peer's replica holds at a lower version than the source last answered.
        public var stale: [String]
        /// Ids the peer's replica holds although this run deleted them.
        public var revived: [String]
        /// Ids the replica holds with different contents (another `createdAt`, or a higher version
        /// than the source answered).
        public var mismatched: [String]
        /// Changes of these records (updates, deletes, cancels) the source answered with 2xx.
        public var changed: Int
        /// The source's own table (count and digest) at the end.
        public var sourceCount: Int64
        /// The source table's digest.
        public var sourceDigest: String
        /// The peer's replica (count and digest) at the end.
        public var replicaCount: Int64
        /// The replica's digest.
        public var replicaDigest: String
        /// Events the peer's consumer dead-lettered during the run.
        public var deadLettered: Int64
        /// Deliveries the peer's consumer found already applied during the run (harmless redeliveries).
        public var duplicateDeliveries: Int64
        /// Lag of creates: from the source's `createdAt` to the replica's `replicatedAt`, of the
        /// records that were not changed afterwards (the replica row of a changed one carries the
        /// time of its last change).
        public var lagMs: Percentiles?
        /// Lag of changes: from the change's commit at the source (its `updatedAt`, a deletion's
        /// `deletedAt`) to the replica's `replicatedAt` (a deletion's tombstone's), both by the
        /// database clock (see ``ChangeLagProbe``); bounds left out.
        public var changeLagMs: Percentiles?

        /// Every record there once at its last version, every deleted one gone, none extra:
        /// equal counts and digests.
        public var isExact: Bool {
            missing.isEmpty && stale.isEmpty && revived.isEmpty && mismatched.isEmpty && present + deleted == created
                && sourceCount == replicaCount && sourceDigest == replicaDigest
        }
    }

    /// One created record, for plotting latency and lag over the run.
    public struct Record: Codable, Sendable {
        /// `createCustomer` or `createOrder`.
        public var operation: LoadTestOperation
        /// The record's id.
        public var id: String
        /// Seconds since the load began when the request was sent.
        public var sentAt: Double
        /// The request's latency in milliseconds.
        public var latencyMs: Double
        /// The source's `createdAt`.
        public var createdAt: Date
        /// The version the source last answered.
        public var version: Int64
        /// Whether this run deleted it.
        public var deleted: Bool
        /// The version the peer's replica holds; nil when it holds none.
        public var replicaVersion: Int64?
        /// The peer replica's `replicatedAt` of the version it holds; nil when it holds none.
        public var replicatedAt: Date?
        /// `replicatedAt - createdAt` in milliseconds, for a record the run did not change.
        public var lagMs: Double?
    }

    /// One change (update, delete, cancel) answered with 2xx, for plotting latency and lag over the run.
    public struct Change: Codable, Sendable {
        /// `updateCustomer`, `deleteCustomer` or `cancelOrder`.
        public var operation: LoadTestOperation
        /// The changed record's id.
        public var id: String
        /// The version the source answered; nil for a deletion.
        public var version: Int64?
        /// Seconds since the load began when the request was sent.
        public var sentAt: Double
        /// The request's latency in milliseconds.
        public var latencyMs: Double
        /// From the change's commit at its source to the write of the peer's replica row, in
        /// milliseconds; nil when it never showed (or a later deletion overtook it).
        public var lagMs: Double?
        /// True when ``lagMs`` is only a bound: a later version showed first (absent otherwise).
        public var lagIsBound: Bool?
    }

    /// Identifies the run (its customers' emails contain it).
    public var runID: String
    /// When the load began.
    public var startedAt: Date
    /// Requests asked for.
    public var count: Int
    /// Requests in flight at once.
    public var concurrency: Int
    /// The target rate, when one was set.
    public var targetRate: Double?
    /// The share of the creates that create orders.
    public var orderRatio: Double
    /// The share of all requests that update a customer.
    public var updateRatio: Double
    /// The share of all requests that delete a customer.
    public var deleteRatio: Double
    /// The share of all requests that cancel an order.
    public var cancelRatio: Double
    /// Seconds from the first request to the last answer.
    public var durationSeconds: Double
    /// Successful requests per second, over all operations.
    public var requestsPerSecond: Double
    /// Records per second from the first request until the last of them was in its peer's
    /// replica: the rate the whole system, replication included, kept up with.
    public var replicatedPerSecond: Double
    /// Throughput and latency per operation.
    public var operations: [LoadTestOperation: Operation]
    /// 422 unknown-customer answers that were retried (the customer had not reached OrderService yet).
    public var notYetReplicated: Int
    /// How long after each change's answer the lag probe first read it: how far the probe fell
    /// behind (which the lag of changes does not depend on: it comes from database timestamps).
    public var probeFirstReadMs: Percentiles?
    /// Orders answered 422 unknown-customer because this run had deleted their customer (as it should be).
    public var ordersForDeletedCustomers: Int
    /// Failed requests by kind.
    public var errors: [String: Int]
    /// The first message of each kind of error.
    public var errorExamples: [String: String]
    /// Whether both replicas matched their sources within the timeout.
    public var converged: Bool
    /// Seconds spent waiting for convergence after the load.
    public var convergenceSeconds: Double
    /// Customers replicated to OrderService.
    public var customersToOrderService: Replication
    /// Orders replicated to CustomerService.
    public var ordersToCustomerService: Replication
    /// No request failed, both replicas converged, and every created record is in its replica
    /// exactly once at its last version, or gone when it was deleted.
    public var passed: Bool
    /// Every record created, with its timestamps.
    public var records: [Record]
    /// Every change answered with 2xx, with its lag.
    public var changes: [Change]

    /// Whether the run meets what ``passed`` says, from the other fields.
    var meetsExpectations: Bool {
        errors.isEmpty && converged && customersToOrderService.isExact && ordersToCustomerService.isExact
    }
}
