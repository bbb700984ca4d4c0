import ArgumentParser
import ServiceClient

struct RetryParked: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-parked",
        abstract: "Give a service's parked outbox rows back to its relay.",
        discussion: """
            A row the broker refused OUTBOX_MAX_ATTEMPTS times (a basic.nack, a message over the
            broker's max_message_size) is parked so that later events flow; `status` counts them.
            Fix the cause, then run this.
            """
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "The service whose outbox to retry: customer or order.")
    var service: ServiceChoice

    func run() async throws {
        let retried = try await options.clients().retryParkedOutboxRows(of: service.service)
        try Output(json: options.json).show(["retried": retried]) {
            "\(retried) parked outbox row(s) of \(service.service.displayName) given back to its relay"
        }
    }
}

/// `--service customer|order`.
enum ServiceChoice: String, ExpressibleByArgument, CaseIterable {
    case customer, order

    var service: ServiceClients.Service { self == .customer ? .customerService : .orderService }
}
