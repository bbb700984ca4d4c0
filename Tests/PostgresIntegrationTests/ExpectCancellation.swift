import Postgres
import Testing

/// Cancels `task`, whose query is running on `client`, and expects it to end with
/// `CancellationError` within 10 s (well before any test query's own sleep ends) and the
/// pool to answer queries afterwards.
func expectCancellation<Success: Sendable>(
    of task: Task<Success, any Error>, client: PostgresClient, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let clock = ContinuousClock()
    let cancelledAt = clock.now
    task.cancel()
    await #expect(throws: CancellationError.self, sourceLocation: sourceLocation) { try await task.value }
    #expect(clock.now - cancelledAt < .seconds(10), sourceLocation: sourceLocation)
    #expect(try await client.query("SELECT 1").first?.decode(0, as: Int.self) == 1, sourceLocation: sourceLocation)
}
