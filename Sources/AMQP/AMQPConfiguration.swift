import Foundation
import Retry

/// Where and how to connect to a broker; build it from an `amqp://` URL and adjust the timeouts.
public struct AMQPConfiguration: Sendable {
    /// Broker host name or address.
    public var host: String
    /// Broker TCP port (5672 by default).
    public var port: Int
    /// User name for PLAIN authentication.
    public var user: String
    /// Password for PLAIN authentication.
    public var password: String
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

    /// Creates a configuration from its parts.
    public init(host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest", virtualHost: String = "/") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
    }

    /// Parses `amqp://user:pass@host:port/vhost`.
    ///
    /// User, password and vhost are percent-decoded (`%2F` is `/`). Missing parts default to
    /// `guest`/`guest`, port 5672 and vhost `/`; an empty path (`amqp://host/`) is the vhost `""`
    /// per the AMQP URI spec, which the broker does not know, so we map it to `/` as most clients do.
    /// - Throws: ``AMQPError`` with ``AMQPError/Code/invalidConfiguration`` for anything else
    ///   (other scheme, `amqps`, bad port, query strings).
    public init(url: String) throws {
        guard let components = URLComponents(string: url) else {
            throw AMQPError(.invalidConfiguration, "not a valid URL: \(Self.redacted(url))")
        }
        guard components.scheme?.lowercased() == "amqp" else {
            throw AMQPError(
                .invalidConfiguration, "unsupported URL scheme '\(components.scheme ?? "")' (only amqp:// is supported): \(Self.redacted(url))")
        }
        guard let host = components.host, !host.isEmpty else {
            throw AMQPError(.invalidConfiguration, "URL has no host: \(Self.redacted(url))")
        }
        if components.query != nil || components.fragment != nil {
            throw AMQPError(.invalidConfiguration, "URL query and fragment are not supported: \(Self.redacted(url))")
        }
        let port = components.port ?? 5672
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
        self.init(
            host: host,
            port: port,
            user: components.user ?? "guest",
            password: components.password ?? "guest",
            virtualHost: vhost.isEmpty ? "/" : vhost
        )
    }

    /// The URL with its password replaced by `***`, for logs and error messages;
    /// works on text that is not a valid URL too.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"),
            let at = url[schemeEnd.upperBound...].lastIndex(of: "@"),
            let colon = url[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[...colon]) + "***" + String(url[at...])
    }

    /// The reconnect delays: from ``reconnectInitialDelay`` doubling up to ``reconnectMaximumDelay``.
    public var reconnectBackoff: Backoff { Backoff(initial: reconnectInitialDelay, cap: reconnectMaximumDelay) }

    /// `host:port/vhost`, for logs.
    var endpointDescription: String { "\(host):\(port)\(virtualHost.hasPrefix("/") ? "" : "/")\(virtualHost)" }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
