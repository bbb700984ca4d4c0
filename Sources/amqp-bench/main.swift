import AMQP
import ArgumentParser
import Foundation
import Logging

/// Publishes N persistent messages with publisher confirms to a fanout exchange bound to one
/// quorum queue through `AMQPConnection.publish([...])` in batches, and prints messages/s.
/// `scripts/bench/amqp.sh` runs it beside `scripts/bench/amqp_raw.c` (the same work in C).
@main
struct AMQPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp-bench",
        abstract: "Publisher-confirm throughput of the AMQP layer."
    )

    @Option(help: "Broker URL, amqp:// or amqps:// (default: $TEST_AMQP_URL).")
    var url: String?

    @Option(name: .customLong("tls-ca-file"), help: "For amqps://: the PEM file of the CAs to trust (default: the system's).")
    var tlsCAFile: String?

    @Option(help: "Messages to publish.")
    var messages = 20_000

    @Option(help: "Body size in bytes.")
    var size = 1024

    @Option(help: "Messages per publish([...]) call.")
    var batch = 1000

    @Option(help: "Publisher-confirm window (outstanding unconfirmed messages).")
    var window = 128

    @Option(help: "publish([...]) calls in flight at once (2 keeps the window full across batch boundaries).")
    var inFlight = 2

    func run() async throws {
        guard let url = url ?? ProcessInfo.processInfo.environment["TEST_AMQP_URL"] else {
            throw ValidationError("pass --url or set TEST_AMQP_URL")
        }
        var configuration = try AMQPConfiguration(url: url)
        if let tlsCAFile {
            guard configuration.tls != nil else { throw ValidationError("--tls-ca-file needs an amqps:// URL") }
            configuration.tls?.caFile = tlsCAFile
        }
        configuration.confirmWindow = window
        var logger = Logger(label: "amqp-bench")
        logger.logLevel = .warning

        let name = "amqp-bench.swift.\(ProcessInfo.processInfo.processIdentifier)"
        let topology = AMQPTopology(
            exchanges: [.init(name: name, kind: .fanout)],
            queues: [.quorum(name: name)],
            bindings: [.init(queue: name, exchange: name)]
        )
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let all = (0..<messages).map { index in
            AMQPMessage(
                exchange: name, body: body,
                properties: AMQPProperties(
                    contentType: "application/json",
                    persistent: true,
                    messageID: "m-\(index)",
                    headers: ["x-sequence": .int(Int64(index))]
                ))
        }

        let connection = try await AMQPConnection.connect(configuration, logger: logger)
        do {
            try await connection.declare(topology)
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for start in stride(from: 0, to: all.count, by: batch) {
                    if running == inFlight {
                        try await group.next()
                        running -= 1
                    }
                    let slice = Array(all[start..<min(start + batch, all.count)])
                    group.addTask { try await connection.publish(slice) }
                    running += 1
                }
                try await group.waitForAll()
            }
            let elapsed = (ContinuousClock.now - started)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let stored = try await connection.messageCount(queue: name)
            try await connection.delete(queue: name)
            try await connection.delete(exchange: name)
            await connection.close()
            guard stored == messages else {
                throw ValidationError("queue holds \(stored) messages, expected \(messages)")
            }
            let rate = Double(messages) / seconds
            print(
                "swift: \(messages) messages of \(size) B, window \(window), batch \(batch): \(String(format: "%.3f", seconds)) s, \(Int(rate)) msg/s"
            )
            print("RESULT swift \(Int(rate))")
        } catch {
            _ = try? await connection.delete(queue: name)
            try? await connection.delete(exchange: name)
            await connection.close()
            throw error
        }
    }
}
