/// A domain error that has an HTTP answer. Repositories throw their own errors (an email
/// in use, an unknown customer); the service's handler file makes them `ProblemConvertible`,
/// and ``ProblemMiddleware`` renders them: HTTP stays at the edge.
public protocol ProblemConvertible: Error {
    /// The problem that answers this error.
    var problem: Problem { get }
}

extension Problem: ProblemConvertible {
    /// The problem itself.
    public var problem: Problem { self }
}
