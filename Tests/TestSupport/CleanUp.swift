/// Runs `body`, then `cleanUp` whether `body` returned or threw: the shape of every
/// `with...` helper that must leave nothing behind.
///
/// When `body` throws, its error is rethrown and an error of `cleanUp` is dropped; when
/// `body` returns, an error of `cleanUp` is thrown.
public func withCleanUp<T>(_ body: () async throws -> T, cleanUp: () async throws -> Void) async throws -> T {
    let value: T
    do {
        value = try await body()
    } catch {
        try? await cleanUp()
        throw error
    }
    try await cleanUp()
    return value
}
