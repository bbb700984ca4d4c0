import Foundation

/// The admin listener: where the operations endpoints, `/metrics` and the probes are served,
/// and the token that the operations need (see docs/configuration.md).
public struct AdminConfiguration: Sendable {
    /// The address to bind.
    public var host: String
    /// The port; 0 picks a free one (tests).
    public var port: Int
    /// The operations token: `Authorization: Bearer <token>` on every operation.
    public var token: String

    /// `ADMIN_ADDRESS` (`host:port`, `[v6]:port`), and `OPERATIONS_TOKEN` or the contents of
    /// `OPERATIONS_TOKEN_FILE`: one of them is required, at least 16 visible ASCII characters.
    init(_ reader: EnvironmentReader, defaultPort: Int) throws(ConfigurationError) {
        let address = reader.string("ADMIN_ADDRESS", default: "127.0.0.1:\(defaultPort)")
        guard let (host, port) = Self.split(address) else {
            throw ConfigurationError(variable: "ADMIN_ADDRESS", value: address, reason: "must be host:port, such as 127.0.0.1:\(defaultPort)")
        }
        (self.host, self.port) = (host, port)
        token = try Self.token(reader)
    }

    private static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    private static func token(_ reader: EnvironmentReader) throws(ConfigurationError) -> String {
        let direct = reader.string("OPERATIONS_TOKEN", default: "")
        let file = reader.string("OPERATIONS_TOKEN_FILE", default: "")
        let token: String
        let variable: String
        if !direct.isEmpty {
            (token, variable) = (direct, "OPERATIONS_TOKEN")
        } else if !file.isEmpty {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError(variable: "OPERATIONS_TOKEN_FILE", value: file, reason: "cannot be read")
            }
            (token, variable) = (contents.trimmingCharacters(in: .whitespacesAndNewlines), "OPERATIONS_TOKEN_FILE")
        } else {
            throw ConfigurationError(
                variable: "OPERATIONS_TOKEN", value: "",
                reason: "must be set (or OPERATIONS_TOKEN_FILE): the admin listener's operations need a token")
        }
        guard token.utf8.count >= 16, token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            // The value is a secret: it is not repeated in the error.
            throw ConfigurationError(variable: variable, value: "…", reason: "must be at least 16 visible ASCII characters")
        }
        return token
    }
}
