import Contract
import HTTPTypes
import Hummingbird
import NIOCore

/// The limits (docs/design.md#limits) at the edge, before any handler runs: a body over
/// ``maximumBodySize`` is a 413 problem; an `X-Request-ID` longer than ``maximumHeaderLength``
/// bytes, or an `Idempotency-Key` that is not 1 to ``maximumHeaderLength`` visible ASCII
/// characters (an empty one would be shared by every client that sends it), a 400 naming the
/// header. Bytes, not characters: one letter with thousands of combining marks is one character.
///
/// The body is collected here, up to the limit and no further (a declared `Content-Length`
/// over it is refused without reading a byte), so the generated server, which would collect a
/// body of any size, only ever sees one that fits.
public struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The largest request body, in bytes (64 KiB).
    public static var maximumBodySize: Int { 64 * 1024 }
    /// The longest `Idempotency-Key` and `X-Request-ID`, in bytes.
    public static var maximumHeaderLength: Int { 200 }

    /// The headers whose length is limited.
    static var limitedHeaders: [HTTPField.Name] { [RequestID.headerName, HTTPField.Name("Idempotency-Key")!] }

    /// Creates the middleware.
    public init() {}

    /// Refuses what is over a limit; passes the request on with its body collected.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let tooLong = Self.limitedHeaders.compactMap { name -> InvalidParameter? in
            guard let value = request.headers[name] else { return nil }
            if name == RequestID.headerName {
                guard value.utf8.count > Self.maximumHeaderLength else { return nil }
                return InvalidParameter(name: name.rawName, reason: "must be at most \(Self.maximumHeaderLength) bytes")
            }
            guard RequestID.accept(value) == nil else { return nil }
            return InvalidParameter(name: name.rawName, reason: "must be 1 to \(Self.maximumHeaderLength) visible ASCII characters")
        }
        if !tooLong.isEmpty { throw Problem.validation(tooLong) }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > Self.maximumBodySize {
            throw Problem.bodyTooLarge(limit: Self.maximumBodySize)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: Self.maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw Problem.bodyTooLarge(limit: Self.maximumBodySize)
        }
        return try await next(request, context)
    }
}

extension Problem {
    /// 413: the request body is larger than `limit` bytes.
    public static func bodyTooLarge(limit: Int) -> Problem {
        Problem(
            code: "body-too-large", title: "The request body is too large", status: .contentTooLarge,
            detail: "the body may be at most \(limit) bytes")
    }
}
