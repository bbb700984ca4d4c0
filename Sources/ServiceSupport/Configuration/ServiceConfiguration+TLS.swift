import AMQP
import Foundation

extension ServiceConfiguration {
    /// The TLS files of an `amqps://` `AMQP_URL`: `AMQP_TLS_CA_FILE` (unset: the system's trusted
    /// CAs), and a client certificate from `AMQP_TLS_CERT_FILE` with `AMQP_TLS_KEY_FILE`.
    ///
    /// Returns `amqp`'s ``AMQPConfiguration/tls`` with the files set, `nil` for `amqp://`.
    /// - Throws: ``ConfigurationError`` naming the variable when a file is set for an `amqp://`
    ///   URL (it would silently go unused), a certificate comes without its key or the other way
    ///   round, or a file cannot be read.
    static func amqpTLS(_ reader: EnvironmentReader, url: String, amqp: AMQPConfiguration) throws(ConfigurationError) -> AMQPConfiguration.TLS? {
        let names = ["AMQP_TLS_CA_FILE", "AMQP_TLS_CERT_FILE", "AMQP_TLS_KEY_FILE"]
        let files = names.map { reader.string($0, default: "") }.map { $0.isEmpty ? nil : $0 }
        guard var tls = amqp.tls else {
            if let index = files.firstIndex(where: { $0 != nil }) {
                throw ConfigurationError(
                    variable: names[index], value: files[index] ?? "",
                    reason: "is set, but AMQP_URL (\(AMQPConfiguration.redacted(url))) does not use TLS: write amqps:// to connect with TLS")
            }
            return nil
        }
        for (name, file) in zip(names, files) {
            if let file, !FileManager.default.isReadableFile(atPath: file) {
                throw ConfigurationError(variable: name, value: file, reason: "cannot be read (no such file, or no permission)")
            }
        }
        if (files[1] == nil) != (files[2] == nil) {
            let (missing, given) = files[1] == nil ? (1, 2) : (2, 1)
            throw ConfigurationError(
                variable: names[missing], value: "",
                reason: "must be set with \(names[given]): a client certificate needs both its certificate and its key")
        }
        tls.caFile = files[0]
        tls.certificateFile = files[1]
        tls.keyFile = files[2]
        return tls
    }
}
