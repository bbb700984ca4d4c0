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
}
