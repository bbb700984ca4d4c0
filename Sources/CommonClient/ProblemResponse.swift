import ServiceClient

/// The body of a documented error answer of the contract: a problem (RFC 9457).
protocol ProblemBody {
    /// The problem the service answered.
    var applicationProblemJson: Components.Schemas.Problem { get throws }
}

/// A documented error answer of the contract (`400`, `404`, `409`, `412`, `413`, `422`, `503`).
protocol ProblemResponse {
    associatedtype Body: ProblemBody
    /// The answer's body.
    var body: Body { get }
}

extension ProblemResponse {
    /// The ``ClientFailure`` to throw for this answer of `service`.
    func failure(_ service: ServiceClients.Service) throws -> ClientFailure {
        ClientFailure.problem(try body.applicationProblemJson, service: service.displayName)
    }
}

extension Components.Responses.BadRequest: ProblemResponse {}
extension Components.Responses.NotFound: ProblemResponse {}
extension Components.Responses.Conflict: ProblemResponse {}
extension Components.Responses.PreconditionFailed: ProblemResponse {}
extension Components.Responses.Unprocessable: ProblemResponse {}
extension Components.Responses.Unavailable: ProblemResponse {}
extension Components.Responses.BodyTooLarge: ProblemResponse {}

extension Components.Responses.BadRequest.Body: ProblemBody {}
extension Components.Responses.NotFound.Body: ProblemBody {}
extension Components.Responses.Conflict.Body: ProblemBody {}
extension Components.Responses.PreconditionFailed.Body: ProblemBody {}
extension Components.Responses.Unprocessable.Body: ProblemBody {}
extension Components.Responses.Unavailable.Body: ProblemBody {}
extension Components.Responses.BodyTooLarge.Body: ProblemBody {}

extension ServiceClients.Service {
    /// The failure for `output`, an answer of this service other than the success the caller
    /// expected: the problem of a documented error answer, or the status of an undocumented one.
    /// (Each generated output is an enum whose case holds the answer: read it by reflection, so that
    /// one line serves every call instead of a case per status.)
    func failure(answering output: Any) throws -> ClientFailure {
        let answer = Mirror(reflecting: output).children.first?.value
        if let response = answer as? any ProblemResponse { return try response.failure(self) }
        let status = answer.flatMap { Mirror(reflecting: $0).children.first?.value as? Int } ?? 0
        return ClientFailure.undocumented(status, service: displayName)
    }
}
