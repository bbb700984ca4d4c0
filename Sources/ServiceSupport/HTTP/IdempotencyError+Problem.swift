import Replication

extension IdempotencyError: ProblemConvertible {
    /// 422 for a reused key, 409 while the first request is in progress.
    public var problem: Problem {
        switch self {
        case .reused: .idempotencyKeyReused
        case .inProgress: .idempotencyKeyInProgress
        }
    }
}
