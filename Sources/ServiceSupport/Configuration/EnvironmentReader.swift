import Foundation

/// Reads typed values from an environment dictionary, and remembers the name of every
/// variable it is asked for, so that the configuration can say which variables it reads.
///
/// Used by one thread at a time: a configuration makes one, reads through it, and drops it.
final class EnvironmentReader {
    let environment: [String: String]
    /// Every variable asked for, in the order of the first question.
    private(set) var names: [String] = []

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    func string(_ name: String, default value: String) -> String {
        guard let text = self.value(name), !text.isEmpty else { return value }
        return text
    }

    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = self.value(name), !text.isEmpty else { return value }
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
        guard let text = self.value(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return value }
        if text == "off" { return nil }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let number = Double(text.dropLast(unit.suffix.count)), number >= 0, number.isFinite {
                return .milliseconds(Int64((number * unit.seconds * 1000).rounded()))
            }
        }
        throw ConfigurationError(variable: name, value: text, reason: "must be a number and a unit (ms, s, m, h, d), e.g. 7d or 90s; or off")
    }

    /// The raw value of `name`, noted in ``names``.
    func value(_ name: String) -> String? {
        if !names.contains(name) { names.append(name) }
        return environment[name]
    }
}
