import Foundation

/// Reads typed values from an environment dictionary.
struct EnvironmentReader {
    let environment: [String: String]

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    func string(_ name: String, default value: String) -> String {
        guard let text = environment[name], !text.isEmpty else { return value }
        return text
    }

    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = environment[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(variable: name, value: text, reason: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    func milliseconds(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Duration {
        .milliseconds(try integer(name, default: value, in: range))
    }

    /// A duration written as a number and a unit: `500ms`, `30s`, `15m`, `24h`, `7d`; `off` for none.
    func retention(_ name: String, default value: Duration?) throws(ConfigurationError) -> Duration? {
        guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return value }
        if text == "off" { return nil }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let number = Double(text.dropLast(unit.suffix.count)), number >= 0, number.isFinite {
                return .milliseconds(Int64((number * unit.seconds * 1000).rounded()))
            }
        }
        throw ConfigurationError(variable: name, value: text, reason: "must be a number and a unit (ms, s, m, h, d), e.g. 7d or 90s; or off")
    }
}
