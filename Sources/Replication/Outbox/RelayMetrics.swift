import Metrics

/// The relay's metrics.
struct RelayMetrics: Sendable {
    let published = Counter(label: "replication_events_published_total")
    let confirmDuration = Metrics.Timer(label: "replication_publish_confirm_duration_seconds")
    let pending = Gauge(label: "replication_outbox_pending")
    let oldestPendingAge = Gauge(label: "replication_outbox_oldest_pending_age_seconds")
    let parkedRows = Gauge(label: "replication_outbox_parked")
    let refused = Counter(label: "replication_publish_refused_total")
    /// 1 while the broker blocks the publisher's connection (connection.blocked), else 0.
    let brokerBlocked = Gauge(label: "replication_broker_blocked")
}
