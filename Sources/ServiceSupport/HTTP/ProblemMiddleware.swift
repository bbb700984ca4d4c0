import AMQP
import Contract
import Foundation
import Hummingbird
import Logging
import OpenAPIRuntime
import Postgres
import Replication

/// Turns every error that reaches the edge into an `application/problem+json`
/// response: a ``Problem`` as it is; a request the generated server could not
/// decode as 400 naming the field (it would otherwise answer 500); Hummingbird's
/// HTTP errors (unknown route) with their status; a transient failure of the database (an
/// outage, a timeout, a deadlock, a read-only standby) or of the broker as 503 with
/// `Retry-After`; anything else as 500 without details (it is logged, never echoed).
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs `next`, rendering errors as problems.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error)
            if problem.status >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(error)", "http.status": "\(problem.status)"])
            }
            return problem.response()
        }
    }

    /// The problem that answers `error`.
    static func problem(for error: any Error) -> Problem {
        switch error {
        case let error as any ProblemConvertible:
            return error.problem
        case let error as ServerError:
            if error.underlyingError is any ProblemConvertible {
                return problem(for: error.underlyingError)
            }
            if let underlying = error.underlyingError as? PostgresError { return problem(for: underlying) }
            if error.underlyingError is DecodingError {
                let failure = DecodingFailure(error.underlyingError)
                return .validation([InvalidParameter(name: failure.field.isEmpty ? "body" : failure.field, reason: failure.reason)])
            }
            if error.httpStatus.code >= 400, error.httpStatus.code < 500 {
                return Problem(code: "bad-request", title: "The request is malformed", status: error.httpStatus, detail: error.causeDescription)
            }
            return problem(for: error.underlyingError)
        case let error as HTTPError:
            return Problem(
                code: error.status == .notFound ? "not-found" : "http-error",
                title: error.status.reasonPhrase,
                status: error.status,
                detail: error.body
            )
        case let error as PostgresError where error.isTransient || error.code == .poolTimeout:
            return .databaseUnavailable
        case let error as AMQPError where error.code != .invalidConfiguration && error.code != .accessRefused:
            return .brokerUnavailable
        default:
            return Problem(
                code: "internal", title: "Internal error", status: .internalServerError, detail: "the error was logged with the request id")
        }
    }
}
