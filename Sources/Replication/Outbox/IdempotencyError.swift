/// Why an ``IdempotentRequest`` cannot be served.
public enum IdempotencyError: Error, Sendable, Hashable {
    /// The key was first used with another request (another body or operation).
    case reused
    /// The first request with this key has not finished yet.
    case inProgress
    /// The record the first request created or changed has since been deleted, and its stored
    /// response erased with it (``Erasure``).
    case erased
}
