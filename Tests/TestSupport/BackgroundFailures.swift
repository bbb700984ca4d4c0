import Synchronization
import Testing

/// Crashes of work that runs beside a test body: the services that ``withRunning(_:sourceLocation:_:)``
/// or the system harness runs in tasks of their own.
///
/// Such a crash surfaces nowhere by itself (nobody awaits those tasks until the end), so the
/// test would only see its consequence, a wait that times out. ``record(_:of:sourceLocation:)``
/// makes it the test's failure at once, with its error, and every wait under ``watch(_:)``
/// (``eventually(timeout:pollEvery:_:)``, ``waitUntil(timeout:pollEvery:sourceLocation:_:)``)
/// then stops polling.
public final class BackgroundFailures: Sendable {
    @TaskLocal private static var current: BackgroundFailures?

    private let failed = Mutex(false)

    public init() {}

    /// The failures watched by the current task, or new ones (for a helper that starts to watch).
    public static var currentOrNew: BackgroundFailures { current ?? BackgroundFailures() }

    /// Whether something watched by the current task has crashed.
    public static var haveOccurred: Bool { current?.failed.withLock { $0 } ?? false }

    /// Records `error`, the crash of `name`, as an issue of the running test at `sourceLocation`.
    public func record(_ error: any Error, of name: String, sourceLocation: SourceLocation) {
        failed.withLock { $0 = true }
        Issue.record(error, "\(name) crashed", sourceLocation: sourceLocation)
    }

    /// Runs `body` with these failures watched by the waits in it.
    public func watch<T>(_ body: () async throws -> T) async rethrows -> T {
        try await Self.$current.withValue(self, operation: body)
    }
}
