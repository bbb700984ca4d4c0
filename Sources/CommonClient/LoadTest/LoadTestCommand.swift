import ArgumentParser
import AsyncHTTPClient
import Contract
import Foundation

/// `common-client load-test`: see ``LoadTest``.
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-test",
        abstract: "Create and change customers and orders under load, then check that both replicas converged.",
        discussion: """
            Sends --count requests with --concurrency in flight, optionally paced to --rate requests \
            per second: --update-ratio of them update a customer created earlier in the run, \
            --delete-ratio delete one (once; nothing is sent for it afterwards), --cancel-ratio cancel \
            an order created earlier (once); the rest create customers and orders (--order-ratio of \
            the creates, for customers created earlier). A ratio of 0 turns that operation off.
            Then waits up to --timeout seconds until each service's replica matches its peer's table \
            (count and digest of /replication/status) and checks every record of the run in the \
            peer's replica: at the version its source last answered, or gone when it was deleted.

            Prints requests/s and latency per operation, replication lag of creates and of changes \
            per direction and the convergence check; --json FILE also writes every record's and \
            change's timestamps. Exits non-zero when a request failed or a record is lost, stale, \
            revived, different or extra.
            """
    )

    @OptionGroup var services: ServiceURLOptions

    @Option(help: "Requests in all.") var count = 1000
    @Option(help: "Requests in flight at once.") var concurrency = 16
    @Option(help: "Target requests per second (default: as fast as the services answer).") var rate: Double?
    @Option(help: "Share of the creates that create an order (0...1); the rest create customers.") var orderRatio = 0.5
    @Option(help: "Share of all requests that update a customer (0...1).") var updateRatio = 0.1
    @Option(help: "Share of all requests that delete a customer (0...1).") var deleteRatio = 0.02
    @Option(help: "Share of all requests that cancel an order (0...1).") var cancelRatio = 0.05
    @Option(help: "Seconds to wait after the load for every record to reach the peer's replica.") var timeout: Double = 60
    @Option(help: "Seconds to wait for each HTTP call.") var requestTimeout: Double = 10
    @Option(help: "Also write the full report, with every record's timestamps, as JSON to this file.") var json: String?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
        for (name, ratio) in [("order", orderRatio), ("update", updateRatio), ("delete", deleteRatio), ("cancel", cancelRatio)] {
            guard (0...1).contains(ratio) else { throw ValidationError("--\(name)-ratio must be in 0...1") }
        }
        guard updateRatio + deleteRatio + cancelRatio <= 1 + 1e-9 else {
            throw ValidationError("--update-ratio, --delete-ratio and --cancel-ratio must add up to 1 at most")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard timeout >= 0, requestTimeout > 0 else { throw ValidationError("--timeout and --request-timeout must be positive") }
    }

    func run() async throws {
        var configuration = LoadTestConfiguration(
            count: count, concurrency: concurrency, rate: rate, orderRatio: orderRatio,
            updateRatio: updateRatio, deleteRatio: deleteRatio, cancelRatio: cancelRatio
        )
        configuration.convergenceTimeout = .seconds(timeout)
        configuration.progress = quiet ? .none : (isatty(STDERR_FILENO) != 0 ? .live : .lines(interval: .seconds(5)))

        var httpConfiguration = HTTPClient.Configuration()
        // One connection per worker (and per verification task), plus the lag probe's, to each service.
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(concurrency, 8) + configuration.lagProbes)
        httpConfiguration.timeout = .init(connect: .seconds(5))
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let report: LoadTestReport
        do {
            let clients = try services.clients(httpClient: httpClient, timeout: .seconds(requestTimeout))
            report = try await LoadTest(configuration: configuration, clients: clients).run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()

        print(report.text())
        if let json {
            try Self.write(report, to: json)
            print("report: \(json)")
        }
        if !report.passed { throw ExitCode.failure }
    }

    /// Writes the report as JSON, with the contract's time format.
    static func write(_ report: LoadTestReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(report).write(to: url, options: .atomic)
    }
}
