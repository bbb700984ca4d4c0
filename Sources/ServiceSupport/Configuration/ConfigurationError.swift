/// A missing or malformed setting, said in one line.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The environment variable.
    public var variable: String
    /// Its value.
    public var value: String
    /// What is wrong with it.
    public var reason: String

    /// `invalid HTTP_PORT="abc": must be an integer in 0...65535`.
    public var description: String { "invalid \(variable)=\"\(value)\": \(reason)" }
}
