import Replication

extension DeadLetterError: ProblemConvertible {
    /// 409 `dead-letters-busy`.
    public var problem: Problem {
        switch self {
        case .busy(let queue):
            Problem(
                code: "dead-letters-busy", title: "Another dead-letter operation is running", status: .conflict,
                detail: "a replay or discard of \(queue) is running; retry when it has finished")
        }
    }
}
