import Testing

/// How often ``eventually(timeout:pollEvery:_:)`` and ``waitUntil(timeout:pollEvery:sourceLocation:_:)`` look.
public let defaultPollInterval: Duration = .milliseconds(10)

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
///
/// For a condition that should come true (`await expectEventually { … }`) and for a
/// bounded observation of one that should not (`#expect(!(await eventually(timeout: …) { … }))`).
/// Stops early, with one last look, when the task is cancelled or when a service started by
/// ``withRunning(_:sourceLocation:_:)`` or the system harness has crashed (the crash is
/// recorded as the test's failure already; see ``BackgroundFailures``).
public func eventually(
    timeout: Duration = .seconds(15),
    pollEvery interval: Duration = defaultPollInterval,
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline, !Task.isCancelled, !BackgroundFailures.haveOccurred {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Polls `condition` until it holds; fails the test (at the caller's line) instead of
/// hanging when it does not within `timeout`.
public func waitUntil(
    timeout: Duration = .seconds(10),
    pollEvery interval: Duration = defaultPollInterval,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let held = try await eventually(timeout: timeout, pollEvery: interval, condition)
    try #require(held, "condition not met within \(timeout)", sourceLocation: sourceLocation)
}

/// Expects `condition` to come true within `timeout` (polling as ``eventually(timeout:pollEvery:_:)``
/// does, every ``defaultPollInterval``); records an issue at the caller's line, with `comment` (made then), when it does not.
///
/// Write `try await expectEventually { … }`, never `try await expectEventually { … }`: a
/// closure written inside the parentheses of `#expect` or `#require` can be given the symbol name
/// of another closure of the same function by the compiler (a defect of Swift 6.3 with closures
/// in macro expansions inside closures), and then the other closure's body runs in its place: a
/// wait for a new version that returns at once because it checked that the record exists.
/// `scripts/checks/macro-closures` refuses such a closure anywhere under Tests/.
public func expectEventually(
    _ comment: @autoclosure () -> Comment? = nil, timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async rethrows {
    let held = try await eventually(timeout: timeout, condition)
    if !held {
        Issue.record(comment() ?? "condition not met within \(timeout)", sourceLocation: sourceLocation)
    }
}
