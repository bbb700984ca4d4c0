import Foundation
import Logging
import Testing

/// The real servers the test command provides; a missing one fails the test (never skips it).
enum TestEnvironment {
    static func postgresURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_POSTGRES_URL", sourceLocation: sourceLocation)
    }

    static func amqpURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_AMQP_URL", sourceLocation: sourceLocation)
    }

    /// `scripts/local-servers`, which can stop and start the servers the test command started.
    static func serversScript(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variable("TEST_SERVERS_SCRIPT", sourceLocation: sourceLocation)
    }

    /// The directory of the built executables (`customer-service`, `order-service`):
    /// `TEST_BINARY_DIR`, or the package's `.build/debug`.
    static var binaryDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["TEST_BINARY_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory)
        }
        // Tests/SystemTests/TestEnvironment.swift → the package root → .build/debug
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug")
    }

    static let logger: Logger = {
        var logger = Logger(label: "system-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }()

    private static func variable(_ name: String, sourceLocation: SourceLocation) throws -> String {
        try #require(
            ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 },
            "\(name) is not set: run the tests with scripts/test (or `eval \"$(scripts/local-servers env)\"`)",
            sourceLocation: sourceLocation
        )
    }

    /// Runs `script` with `arguments` and fails the test when it fails.
    static func run(_ script: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(script) \(arguments.joined(separator: " ")) failed", sourceLocation: sourceLocation)
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
