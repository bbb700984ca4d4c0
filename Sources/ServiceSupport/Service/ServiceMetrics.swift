import Metrics
import Prometheus
import Synchronization

/// The process's Prometheus registry, bootstrapped into swift-metrics once.
///
/// Several services in one process (the end-to-end tests) share it.
public enum ServiceMetrics {
    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The registry, bootstrapping the metrics system on the first call.
    public static func registry() -> PrometheusCollectorRegistry {
        bootstrapped.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: created)
            factory.defaultDurationHistogramBuckets = [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
            ]
            MetricsSystem.bootstrap(factory)
            registry = created
            return created
        }
    }

    /// Bootstraps swift-metrics with the registry (once per process); call it before making
    /// anything that records metrics, since metrics made before it go nowhere.
    public static func bootstrap() {
        _ = registry()
    }

    /// The registry's metrics in the Prometheus text format.
    public static func exposition() -> String {
        var buffer: [UInt8] = []
        registry().emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
