import Foundation
import Testing

/// What `scripts/local-servers start --tls` provides (scripts/lib/tls.sh), read from the
/// environment its `env` prints: a PostgreSQL and a RabbitMQ that accept TLS only, and the
/// throwaway CA that signed their certificate (for `localhost` and `127.0.0.1`).
///
/// A missing variable fails the test that asked for it, with ``setupHint``.
public enum TestTLS {
    /// How to provide the TLS servers beside the plaintext ones (a second instance in a run
    /// directory of its own), appended to every missing-variable failure.
    public static let setupHint =
        "run scripts/test, or `export REPLICATION_RUN_DIR=$PWD/.run/tls-servers; scripts/local-servers start --tls;"
        + " eval \"$(scripts/local-servers env)\"; unset REPLICATION_RUN_DIR`"

    /// `TEST_AMQPS_URL`: the TLS broker as `guest`, `amqps://guest:guest@127.0.0.1:PORT/%2F`.
    public static func amqpsURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_AMQPS_URL", sourceLocation: sourceLocation)
    }

    /// `TEST_DATABASE_TLS_URL`: the TLS PostgreSQL's superuser, with `sslmode=verify-full` and
    /// `sslrootcert` set to the CA.
    public static func databaseURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_DATABASE_TLS_URL", sourceLocation: sourceLocation)
    }

    /// `TEST_TLS_CA_FILE`: the CA that signed both servers' certificate.
    public static func caFile(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_TLS_CA_FILE", sourceLocation: sourceLocation)
    }

    /// A file beside ``caFile(sourceLocation:)``: `client.crt` and `client.key` (a client
    /// certificate the CA signed, CN `guest`), `other-ca.crt` (a CA that signed nothing here).
    public static func file(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        URL(fileURLWithPath: try caFile(sourceLocation: sourceLocation)).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// `TEST_TLS_RUN_DIR`: the run directory of the TLS servers, for `scripts/local-servers`
    /// (as `REPLICATION_RUN_DIR`).
    public static func runDirectory(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_TLS_RUN_DIR", sourceLocation: sourceLocation)
    }

    /// Runs `scripts/local-servers rabbitmqctl ARGUMENTS` against the TLS broker and returns its standard output.
    public static func rabbitmqctl(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/local-servers").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["rabbitmqctl"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["REPLICATION_RUN_DIR": try runDirectory(sourceLocation: sourceLocation)], uniquingKeysWith: { $1 })
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let status = try await runToCompletion(process)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(status == 0, "rabbitmqctl \(arguments.joined(separator: " ")) exited with \(status)", sourceLocation: sourceLocation)
        return text
    }

    private static func variable(_ name: String, sourceLocation: SourceLocation) throws -> String {
        try TestEnvironment.variable(name, hint: setupHint, sourceLocation: sourceLocation)
    }
}
