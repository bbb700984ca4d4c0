import ArgumentParser
import Foundation

struct ResyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync",
        abstract: "Send a source's records to a subscriber's queue, for a new subscriber or a replica that lost data.",
        discussion: """
            --to order-service resyncs customers (from CustomerService), --to customer-service
            orders (from OrderService); another subscriber needs --from. The records' current
            state, tombstones included, goes straight into the subscriber's queue; other
            subscribers see nothing, and live replication goes on. Shows the job's progress
            until it ends; exits non-zero when it fails.
            """
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "The subscriber: order-service, customer-service, or another service with a queue bound to the source's exchange.")
    var to: String

    @Option(help: "The source: customer-service or order-service (default: the peer of --to).")
    var from: String?

    @Option(parsing: .upToNextOption, help: "Only these record ids (default: all).")
    var ids: [String] = []

    func run() async throws {
        let source = try Self.source(from: from, to: to)
        let clients = try options.clients()
        let progress = ProgressLine(enabled: !options.json)
        let job = try await clients.runResync(at: source, to: to, ids: ids.isEmpty ? nil : ids) { job in
            progress.show("resync to \(job.subscriber): \(job.sent) of \(job.total) sent (\(job.state.rawValue))")
        }
        progress.finish()
        try Output(json: options.json).show(job) {
            "resync \(job.id) to \(job.subscriber): \(job.sent) of \(job.total) records sent, \(job.state.rawValue)"
        }
    }

    static func source(from: String?, to: String) throws -> ServiceClients.Service {
        switch from ?? (to == "order-service" ? "customer-service" : to == "customer-service" ? "order-service" : "") {
        case "customer-service": return .customerService
        case "order-service": return .orderService
        case "": throw ValidationError("--from is needed for a subscriber other than order-service or customer-service")
        case let other: throw ValidationError("--from must be customer-service or order-service, not \(other)")
        }
    }
}

/// One line on stderr, redrawn in place when stderr is a terminal (else nothing).
struct ProgressLine {
    let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K\(text)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
