import ServiceLifecycle
import Testing

/// Runs `services` while `body` runs, then cancels them and waits until they have stopped.
///
/// A service that throws before then (other than by being cancelled) has crashed: its error
/// fails the test at once, at `sourceLocation`, and ends the waits in `body` (see ``BackgroundFailures``).
public func withRunning<T: Sendable>(
    _ services: [any Service],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async throws -> T {
    let failures = BackgroundFailures.currentOrNew
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services {
            group.addTask {
                do {
                    try await service.run()
                } catch {
                    // Cancellation is how this helper stops the services; anything else is a crash.
                    if !Task.isCancelled {
                        failures.record(error, of: "\(type(of: service))", sourceLocation: sourceLocation)
                    }
                }
            }
        }
        do {
            let result = try await failures.watch(body)
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}
