import Contract
import Foundation

/// Prints results as text for people or as JSON for scripts.
struct Output {
    let json: Bool

    /// Prints `value` as JSON (with the contract's time format), or `text()` when not in JSON mode.
    func show<Value: Encodable>(_ value: Value, text: () -> String) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(Timestamp.format(date))
            }
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        } else {
            print(text())
        }
    }
}

/// `1250` cents as `12.50`.
func money(_ cents: Int64) -> String {
    let sign = cents < 0 ? "-" : ""
    let magnitude = cents.magnitude
    let fraction = magnitude % 100
    return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
