import Contract
import Tracing

/// The spans of replication (docs/design.md#trace), for whatever tracer the process bootstrapped
/// (`InstrumentationSystem`); with none, the default no-op tracer, nothing here does any work.
///
/// The W3C `traceparent` the services already carry is the bridge between the tracer's contexts
/// and what is stored: the outbox row's `traceparent` names the change's transaction span, the
/// relay's publish span links to it, and the consumer's apply span is its child, so one request
/// is one trace across both services.
public enum Spans {
    /// Whether a tracer other than the no-op one is bootstrapped; read once by each component.
    public static var areRecorded: Bool { !(InstrumentationSystem.tracer is NoOpTracer) }

    /// The span context `context` holds, as a `traceparent` (through the bootstrapped propagator).
    public static func traceParent(of context: ServiceContext) -> TraceParent? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"].flatMap(TraceParent.init)
    }

    /// A context whose span is the one `traceParent` names, for a child or a link.
    public static func context(continuing traceParent: TraceParent) -> ServiceContext {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(["traceparent": traceParent.description], into: &context, using: DictionaryExtractor())
        return context
    }

    /// Runs `body` in a span named `name`, with ``TraceParent/current`` set to that span, so
    /// that the outbox rows `body` appends name it. Unless `recorded` (the caller's reading of
    /// ``areRecorded``, taken once), just runs `body`.
    static func withCurrentSpan<T>(
        _ name: String, recorded: Bool, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        guard recorded else { return try await body() }
        return try await withSpan(name, ofKind: .internal, isolation: isolation) { span in
            try await TraceParent.$current.withValue(traceParent(of: span.context) ?? TraceParent.current) {
                try await body()
            }
        }
    }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
