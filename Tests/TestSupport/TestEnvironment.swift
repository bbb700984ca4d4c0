import Foundation
import Logging
import Testing

/// What the test command provides: the servers' URLs, the servers script, the built
/// executables, the log level. Read here and nowhere else.
///
/// A missing variable fails the test that asked for it (never skips it), with
/// ``setupHint`` in the message.
public enum TestEnvironment {
    /// How to provide the servers, appended to every missing-variable failure.
    public static let setupHint =
        "run scripts/test, or `scripts/local-servers start` and `eval \"$(scripts/local-servers env)\"`"

    /// `TEST_POSTGRES_URL`: a superuser of the shared PostgreSQL server.
    public static func postgresURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_POSTGRES_URL", sourceLocation: sourceLocation)
    }

    /// `TEST_AMQP_URL`: the shared RabbitMQ broker.
    public static func amqpURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_AMQP_URL", sourceLocation: sourceLocation)
    }

    /// `TEST_SERVERS_SCRIPT`: `scripts/local-servers`, which stops and starts the shared servers.
    public static func serversScript(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_SERVERS_SCRIPT", sourceLocation: sourceLocation)
    }

    /// The directory of the built executables (`customer-service`, `order-service`):
    /// `TEST_BINARY_DIR`, or the package's `.build/debug`.
    public static var binaryDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["TEST_BINARY_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory)
        }
        // Tests/TestSupport/TestEnvironment.swift → the package root → .build/debug
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug")
    }

    /// The logger every test and every component under test logs to (see ``makeLogger(label:)``).
    public static let logger = makeLogger(label: "tests")

    /// A logger at `TEST_LOG_LEVEL` (`trace` … `critical`), `critical` when it is unset:
    /// tests provoke errors on purpose, so their output stays quiet unless asked.
    public static func makeLogger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// Eight random hex digits, for names no other test uses.
    public static func uniqueID() -> String {
        String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8)).lowercased()
    }

    /// `test.<label>.<id>`: an exchange or queue name no other test uses.
    public static func uniqueName(_ label: String) -> String {
        "test.\(label).\(uniqueID())"
    }

    /// The value of the variable `name`; when it is unset or empty, fails the test at
    /// `sourceLocation` with `hint` (how to provide it).
    static func variable(_ name: String, hint: String = setupHint, sourceLocation: SourceLocation) throws -> String {
        let value = ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
        return try #require(value, "\(name) is not set: \(hint)", sourceLocation: sourceLocation)
    }
}
