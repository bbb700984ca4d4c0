import Foundation
import OpenAPIRuntime

/// The contract's time format for swift-openapi-runtime (`Configuration(dateTranscoder:)`).
public struct TimestampTranscoder: DateTranscoder {
    /// Formats with ``Timestamp/format(_:)``.
    public func encode(_ date: Date) throws -> String {
        Timestamp.format(date)
    }

    /// Parses with ``Timestamp/parse(_:)``.
    public func decode(_ text: String) throws -> Date {
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an RFC 3339 time: \(text)"))
        }
        return date
    }
}
