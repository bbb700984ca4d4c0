import Foundation
import Retry

/// Where and how to connect to a broker; build it from an `amqp://` or `amqps://` URL (or a
/// comma-separated list of them, one per node of a cluster) and adjust the timeouts.
public struct AMQPConfiguration: Sendable {
    /// One broker node: where its AMQP listener is.
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        /// Host name or address.
        public var host: String
        /// TCP port (5672 by default, 5671 for `amqps://`).
        public var port: Int

        /// Creates an endpoint.
        public init(host: String, port: Int = 5672) {
            self.host = host
            self.port = port
        }

        /// `host:port` (`[host]:port` for an IPv6 address).
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The broker nodes, in the order they are tried; never empty for a working configuration.
    ///
    /// A connection goes to the first that answers. After a connection is lost, the next one
    /// starts at the node after the one it was on (round-robin), tries every node once, and only
    /// then backs off (``reconnectBackoff``). Connecting with an empty list fails with
    /// ``AMQPError/Code/invalidConfiguration``.
    public var endpoints: [Endpoint]
    /// User name for PLAIN authentication (the same on every node).
    public var user: String
    /// Password for PLAIN authentication.
    public var password: String
    /// TLS to every node (`amqps://`), or `nil` for plain TCP (`amqp://`); see ``TLS``.
    public var tls: TLS?
    /// Virtual host, e.g. `/`.
    public var virtualHost: String
    /// Heartbeat interval proposed to the broker; a peer silent for twice this long is declared dead. Zero disables heartbeats.
    public var heartbeat: Duration = .seconds(30)
    /// Upper bound for the TCP connect and for the AMQP handshake (login, vhost open), each.
    public var connectTimeout: Duration = .seconds(5)
    /// How long a publish waits for the broker's next confirm before it fails with ``AMQPError/Code/timeout`` and the connection is dropped.
    public var confirmTimeout: Duration = .seconds(10)
    /// Upper bound for a synchronous request (declare, purge, basic.get, ...); on expiry the connection is dropped.
    public var rpcTimeout: Duration = .seconds(10)
    /// How many published messages may await their confirm at once on one connection.
    public var confirmWindow: Int = 128
    /// First delay before reconnecting (``AMQPPublisher``, ``AMQPConsumer``); it doubles per failed attempt.
    public var reconnectInitialDelay: Duration = .milliseconds(100)
    /// Cap of the reconnect delay.
    public var reconnectMaximumDelay: Duration = .seconds(2)

    /// Creates a configuration for one node from its parts; set ``endpoints`` for more.
    public init(host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest", virtualHost: String = "/") {
        self.endpoints = [Endpoint(host: host, port: port)]
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
    }

    /// Parses `amqp://user:pass@host:port/vhost` (or `amqps://`), or a comma-separated list of
    /// such URLs, one per node of a cluster (whitespace around the commas is allowed).
    ///
    /// User, password and vhost are percent-decoded (`%2F` is `/`). Missing parts default to
    /// `guest`/`guest`, port 5672 (5671 for `amqps`) and vhost `/`; an empty path (`amqp://host/`)
    /// is the vhost `""` per the AMQP URI spec, which the broker does not know, so we map it to `/`
    /// as most clients do. `amqps` sets ``tls`` to the default ``TLS`` (the system's trusted CAs,
    /// no client certificate); set its files afterwards.
    ///
    /// Every URL of a list must name the same scheme, user, password and vhost (after the
    /// defaults): the nodes of one cluster share them; only host and port differ, and become
    /// ``endpoints`` in the order given. A comma inside one URL (in a password, say) must be
    /// written `%2C`. A node listed twice is refused: it would only be tried twice per round.
    /// - Throws: ``AMQPError`` with ``AMQPError/Code/invalidConfiguration`` for anything else
    ///   (other scheme, bad port, query strings; in a list: an empty element, a malformed
    ///   one, named by its position, URLs that disagree on scheme, user, password or vhost, a
    ///   node listed twice). Messages show URLs only ``redacted(_:)``.
    public init(url: String) throws {
        let elements = url.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard elements.count > 1 else {
            self = try Self.parse(elements[0])
            return
        }
        let count = elements.count
        for (index, element) in elements.enumerated() {
            if element.isEmpty {
                throw AMQPError(
                    .invalidConfiguration,
                    "node \(index + 1) of \(count) in the URL list is empty (two commas in a row, or one at an end): \(Self.redacted(url))")
            }
            if !element.contains("://") {
                throw AMQPError(
                    .invalidConfiguration,
                    "node \(index + 1) of \(count) in the URL list is not an amqp:// or amqps:// URL (a comma inside a URL, e.g. in a password, must be written %2C): \(Self.redacted(element))"
                )
            }
        }
        var nodes: [AMQPConfiguration] = []
        for (index, element) in elements.enumerated() {
            do {
                nodes.append(try Self.parse(element))
            } catch let error as AMQPError {
                throw AMQPError(.invalidConfiguration, "node \(index + 1) of \(count) in the URL list: \(error.message)")
            }
        }
        let first = nodes[0]
        for (index, node) in nodes.enumerated().dropFirst() {
            var differences: [String] = []
            if (node.tls == nil) != (first.tls == nil) { differences.append("scheme (\(node.scheme), not \(first.scheme))") }
            if node.user != first.user { differences.append("user ('\(node.user)', not '\(first.user)')") }
            if node.password != first.password { differences.append("password") }
            if node.virtualHost != first.virtualHost { differences.append("vhost ('\(node.virtualHost)', not '\(first.virtualHost)')") }
            if !differences.isEmpty {
                throw AMQPError(
                    .invalidConfiguration,
                    "every URL in the list must have the same scheme, user, password and vhost; node \(index + 1) of \(count) differs from node 1 in its \(differences.joined(separator: ", ")): \(Self.redacted(url))"
                )
            }
            let endpoint = node.endpoints[0]
            if let earlier = nodes[..<index].firstIndex(where: {
                $0.endpoints[0].host.lowercased() == endpoint.host.lowercased() && $0.endpoints[0].port == endpoint.port
            }) {
                throw AMQPError(
                    .invalidConfiguration,
                    "node \(index + 1) of \(count) in the URL list (\(endpoint)) repeats node \(earlier + 1): \(Self.redacted(url))")
            }
        }
        self = first
        self.endpoints = nodes.flatMap(\.endpoints)
    }

    /// Parses one `amqp://` or `amqps://` URL (one node).
    private static func parse(_ url: String) throws -> AMQPConfiguration {
        guard let components = URLComponents(string: url) else {
            throw AMQPError(.invalidConfiguration, "not a valid URL: \(Self.redacted(url))")
        }
        let scheme = components.scheme?.lowercased()
        guard scheme == "amqp" || scheme == "amqps" else {
            throw AMQPError(
                .invalidConfiguration,
                "unsupported URL scheme '\(components.scheme ?? "")' (only amqp:// and amqps:// are supported): \(Self.redacted(url))")
        }
        guard var host = components.host, !host.isEmpty else {
            throw AMQPError(.invalidConfiguration, "URL has no host: \(Self.redacted(url))")
        }
        // An IPv6 address comes in brackets (`[::1]`); the socket and the certificate check want it bare.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if components.query != nil || components.fragment != nil {
            throw AMQPError(.invalidConfiguration, "URL query and fragment are not supported: \(Self.redacted(url))")
        }
        let port = components.port ?? (scheme == "amqps" ? 5671 : 5672)
        guard (1...65535).contains(port) else {
            throw AMQPError(.invalidConfiguration, "URL port out of range: \(Self.redacted(url))")
        }
        var path = components.percentEncodedPath
        if path.hasPrefix("/") { path.removeFirst() }
        if path.contains("/") {
            throw AMQPError(.invalidConfiguration, "vhost must be one path segment (encode '/' as %2F): \(Self.redacted(url))")
        }
        guard let vhost = path.removingPercentEncoding else {
            throw AMQPError(.invalidConfiguration, "vhost is not valid percent-encoding: \(Self.redacted(url))")
        }
        var configuration = AMQPConfiguration(
            host: host,
            port: port,
            user: components.user ?? "guest",
            password: components.password ?? "guest",
            virtualHost: vhost.isEmpty ? "/" : vhost
        )
        if scheme == "amqps" { configuration.tls = TLS() }
        return configuration
    }

    /// `amqps://` with TLS, `amqp://` without: for messages.
    var scheme: String { tls == nil ? "amqp://" : "amqps://" }

    /// The URL, or each URL of a comma-separated list, with its password replaced by `***`, for
    /// logs and error messages; works on text that is not a valid URL too.
    ///
    /// It errs on the side of hiding: a list element without `://` (the end of a password that
    /// held a comma) loses everything before its `@`, and one without `@` loses a port that is
    /// not a number (the start of such a password).
    public static func redacted(_ url: String) -> String {
        url.split(separator: ",", omittingEmptySubsequences: false).map { redactedElement(String($0)) }.joined(separator: ",")
    }

    private static func redactedElement(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else {
            guard let at = url.lastIndex(of: "@") else { return url }
            let start = url.firstIndex { !$0.isWhitespace } ?? url.startIndex
            return String(url[..<start]) + "***" + String(url[at...])
        }
        let rest = url[schemeEnd.upperBound...]
        if let at = rest.lastIndex(of: "@") {
            guard let colon = rest[..<at].firstIndex(of: ":") else { return url }
            return String(url[...colon]) + "***" + String(url[at...])
        }
        let authority = rest.prefix { $0 != "/" }
        guard let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") else { return url }
        let port = authority[authority.index(after: colon)...]
        guard !port.allSatisfy(\.isNumber) else { return url }
        return String(url[...colon]) + "***" + String(url[authority.endIndex...])
    }

    /// The reconnect delays: from ``reconnectInitialDelay`` doubling up to ``reconnectMaximumDelay``.
    public var reconnectBackoff: Backoff { Backoff(initial: reconnectInitialDelay, cap: reconnectMaximumDelay) }

    /// `host:port/vhost` of one node, for logs (the `amqp.endpoint` metadata).
    func description(of endpoint: Endpoint) -> String { "\(endpoint)\(virtualHost.hasPrefix("/") ? "" : "/")\(virtualHost)" }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
