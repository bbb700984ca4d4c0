import CAMQPShim
import CRabbitMQ

extension AMQPConnectionHandle {
    /// The socket of a new connection: rabbitmq-c's SSL socket, set up by the shim to verify the
    /// broker, when the configuration asks for TLS; its TCP socket otherwise. `state` owns it.
    ///
    /// - Throws: ``AMQPError`` `.invalidConfiguration` when a CA, certificate or key file cannot be
    ///   loaded (with OpenSSL's reason), `.protocolError` when rabbitmq-c cannot allocate it.
    func makeSocket(_ state: amqp_connection_state_t) throws -> OpaquePointer {
        guard let tls = configuration.tls else {
            guard let socket = amqp_tcp_socket_new(state) else {
                throw AMQPError(.protocolError, "amqp_tcp_socket_new failed (out of memory)")
            }
            return socket
        }
        var error = [CChar](repeating: 0, count: 1024)
        let socket = endpoint.host.withCString { host in
            withOptionalCString(tls.caFile) { caFile in
                withOptionalCString(tls.certificateFile) { certificateFile in
                    withOptionalCString(tls.keyFile) { keyFile in
                        camqp_tls_socket_new(state, host, caFile, certificateFile, keyFile, &error, error.count)
                    }
                }
            }
        }
        guard let socket else {
            throw AMQPError(.invalidConfiguration, "TLS to \(endpoint): \(String(cBuffer: error))")
        }
        return socket
    }

    /// The error for a failed TLS handshake (`status` from opening the socket), with the reason
    /// OpenSSL recorded on this thread; `nil` when `status` is not a TLS failure.
    func tlsError(_ status: Int32) -> AMQPError? {
        guard let tls = configuration.tls else { return nil }
        switch status {
        case AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue, AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue,
            AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_ERROR.rawValue:
            let reason = Self.tlsFailureReason() ?? Self.statusText(status)
            return AMQPError(
                .tlsFailed, "TLS handshake with \(endpoint) failed: \(reason) (the broker's certificate is checked against \(tls.trustDescription))")
        default:
            return nil
        }
    }

    /// Why the last TLS operation on this thread failed, as OpenSSL recorded it; `nil` when it recorded nothing.
    static func tlsFailureReason() -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        camqp_tls_failure(&buffer, buffer.count)
        let reason = String(cBuffer: buffer)
        return reason.isEmpty ? nil : reason
    }
}

/// Calls `body` with a C string of `value`, or with `nil` when `value` is `nil`.
private func withOptionalCString<Result>(_ value: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let value else { return body(nil) }
    return value.withCString { body($0) }
}

extension String {
    /// The text of a NUL-terminated C buffer (all of it when it holds no NUL).
    fileprivate init(cBuffer: [CChar]) {
        self.init(decoding: cBuffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }
}
