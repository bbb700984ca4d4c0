import Foundation
import HTTPTypes
import Hummingbird

/// The request id that follows a request through both services: the client's
/// `X-Request-ID` when it sent a usable one, otherwise a new UUID.
public enum RequestID {
    /// The current request's id, set by ``RequestIDMiddleware`` for the handler's task.
    @TaskLocal public static var current: String?

    /// The header's name.
    public static let headerName = HTTPField.Name("X-Request-ID")!
    /// W3C trace context's header.
    public static let traceParentHeader = HTTPField.Name("traceparent")!

    /// `value` when it is 1...200 visible ASCII characters, otherwise nil.
    static func accept(_ value: String?) -> String? {
        guard let value, (1...200).contains(value.utf8.count),
            value.utf8.allSatisfy({ (0x21...0x7e).contains($0) })
        else { return nil }
        return value
    }
}
