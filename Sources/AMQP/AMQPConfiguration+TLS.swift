extension AMQPConfiguration {
    /// How a connection to an `amqps://` node is secured: TLS 1.2 or later, the broker's
    /// certificate verified against ``caFile`` and checked to name the host of the URL (a DNS
    /// name, or an IP address entry for an address), and, when given, a client certificate.
    ///
    /// A broker that fails verification is refused during the handshake with
    /// ``AMQPError/Code/tlsFailed`` and OpenSSL's reason (an unknown CA, a name the certificate
    /// does not carry, an expired certificate); a file that cannot be loaded fails the connection
    /// with ``AMQPError/Code/invalidConfiguration``. Files are read at each connect, so renewed
    /// certificates take effect on the next reconnect.
    public struct TLS: Hashable, Sendable {
        /// The PEM file of the CA certificates to trust; `nil` trusts the system's store
        /// (OpenSSL's default paths, e.g. `/etc/ssl/certs`), as for a broker with a public certificate.
        public var caFile: String?
        /// The PEM file of the client certificate (with its chain), for a broker that asks for one.
        public var certificateFile: String?
        /// The PEM file of the client certificate's private key; it must not be encrypted.
        public var keyFile: String?

        /// Creates TLS settings; with no arguments: the system's CAs and no client certificate.
        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }

        /// What the broker's certificate is checked against, for messages.
        var trustDescription: String { caFile.map { "the CA file \($0)" } ?? "the system's trusted CAs" }
    }
}
