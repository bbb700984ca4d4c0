import Foundation
import Metrics

/// The consumer's metrics.
struct ConsumerMetrics: Sendable {
    let queue: String
    let applied: Counter
    let duplicate: Counter
    let replay: Counter
    let lag: Metrics.Timer
    /// Batches that failed transiently (database down or busy) and are retried.
    let transientFailures: Counter

    init(queue: String) {
        self.queue = queue
        let dimensions = [("queue", queue)]
        applied = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "applied")])
        duplicate = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "duplicate")])
        replay = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "replay")])
        lag = Metrics.Timer(label: "replication_lag_seconds", dimensions: dimensions)
        transientFailures = Counter(label: "replication_consumer_transient_failures_total", dimensions: dimensions)
        // Registered at zero, so the series exist (and rate() works) before the first poison message.
        for reason in [
            PoisonMessage.Reason.invalidJSON, .invalidEnvelope, .unknownType, .invalidData, .tooLarge, .unauthenticatedPublisher, .processingFailed,
        ] {
            _ = Counter(label: "replication_events_dead_lettered_total", dimensions: dimensions + [("reason", reason.rawValue)])
        }
    }

    func record(_ outcome: ConsumeOutcome, occurredAt: Date) {
        switch outcome {
        case .applied:
            applied.increment()
            lag.recordNanoseconds(Int64(max(0, Date().timeIntervalSince(occurredAt)) * 1e9))
        case .duplicate: duplicate.increment()
        case .replay: replay.increment()
        }
    }

    func transientFailure() {
        transientFailures.increment()
    }

    func deadLettered(_ reason: PoisonMessage.Reason) {
        Counter(label: "replication_events_dead_lettered_total", dimensions: [("queue", queue), ("reason", reason.rawValue)]).increment()
    }
}
