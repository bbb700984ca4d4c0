import Replication

extension IdempotencyError: ProblemConvertible {
    /// 422 for a reused key, 409 while the first request is in progress, 410 once its record is erased.
    public var problem: Problem {
        switch self {
        case .reused: .idempotencyKeyReused
        case .inProgress: .idempotencyKeyInProgress
        case .erased:
            Problem(
                code: "gone", title: "The record has been deleted", status: .gone,
                detail: "the record this Idempotency-Key created or changed has since been deleted, and its response with it")
        }
    }
}
