import Metrics

/// The relay's metrics.
struct RelayMetrics: Sendable {
    let published = Counter(label: "replication_events_published_total")
    let confirmDuration = Metrics.Timer(label: "replication_publish_confirm_duration_seconds")
    let pending = Gauge(label: "replication_outbox_pending")
    let oldestPendingAge = Gauge(label: "replication_outbox_oldest_pending_age_seconds")
}
