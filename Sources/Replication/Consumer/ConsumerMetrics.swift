import Foundation
import Metrics
import Synchronization

/// The consumer's metrics.
final class ConsumerMetrics: Sendable {
    let queue: String
    let applied: Counter
    let duplicate: Counter
    let replay: Counter
    /// `replication_lag_seconds` by event type: from the event's commit at its source to its
    /// apply here. Each type's timer is made once, on its first event.
    private let lags = Mutex<[String: Metrics.Timer]>([:])
    /// Batches that failed transiently (database down or busy) and are retried.
    let transientFailures: Counter
    /// 1 while consuming is stopped because the database does not take events, else 0.
    let pausedGauge: Gauge

    init(queue: String) {
        self.queue = queue
        let dimensions = [("queue", queue)]
        applied = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "applied")])
        duplicate = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "duplicate")])
        replay = Counter(label: "replication_events_consumed_total", dimensions: dimensions + [("outcome", "replay")])
        transientFailures = Counter(label: "replication_consumer_transient_failures_total", dimensions: dimensions)
        pausedGauge = Gauge(label: "replication_consumer_paused", dimensions: dimensions)
        for failure in [ApplyFailure.unavailable, .configuration, .readOnly] {
            _ = Counter(label: "replication_consumer_pauses_total", dimensions: dimensions + [("reason", failure.label)])
        }
        // Registered at zero, so the series exist (and rate() works) before the first poison message.
        for reason in [
            PoisonMessage.Reason.invalidJSON, .invalidEnvelope, .unknownType, .invalidData, .tooLarge, .unauthenticatedPublisher, .processingFailed,
        ] {
            _ = Counter(label: "replication_events_dead_lettered_total", dimensions: dimensions + [("reason", reason.rawValue)])
        }
    }

    func record(_ outcome: ConsumeOutcome, eventType: String, occurredAt: Date) {
        switch outcome {
        case .applied:
            applied.increment()
            lag(of: eventType).recordNanoseconds(Int64(max(0, Date().timeIntervalSince(occurredAt)) * 1e9))
        case .duplicate: duplicate.increment()
        case .replay: replay.increment()
        }
    }

    private func lag(of eventType: String) -> Metrics.Timer {
        lags.withLock { lags in
            if let timer = lags[eventType] { return timer }
            let timer = Metrics.Timer(label: "replication_lag_seconds", dimensions: [("queue", queue), ("event_type", eventType)])
            lags[eventType] = timer
            return timer
        }
    }

    func transientFailure() {
        transientFailures.increment()
    }

    /// Consuming stopped because of `failure`, or (nil) goes on.
    func paused(_ failure: ApplyFailure?) {
        pausedGauge.record(failure == nil ? 0 : 1)
        if let failure {
            Counter(label: "replication_consumer_pauses_total", dimensions: [("queue", queue), ("reason", failure.label)]).increment()
        }
    }

    func deadLettered(_ reason: PoisonMessage.Reason) {
        Counter(label: "replication_events_dead_lettered_total", dimensions: [("queue", queue), ("reason", reason.rawValue)]).increment()
    }
}
