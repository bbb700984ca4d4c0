import ArgumentParser
import Foundation
import ServiceClient

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the health and replication status of both services.",
        discussion: "Exits non-zero when a service is unreachable or not ready."
    )

    @OptionGroup var options: ClientOptions

    struct ServiceStatus: Encodable {
        var url: String
        var health: Components.Schemas.Health?
        var replication: Components.Schemas.ReplicationStatus?
        var error: String?
    }

    struct Result: Encodable {
        var customerService: ServiceStatus
        var orderService: ServiceStatus
    }

    func run() async throws {
        let clients = try options.clients()
        async let customer = Self.status(of: .customerService, clients: clients)
        async let order = Self.status(of: .orderService, clients: clients)
        let result = Result(customerService: await customer, orderService: await order)
        try Output(json: options.json).show(result) {
            [describe("CustomerService", result.customerService), describe("OrderService", result.orderService)].joined(separator: "\n")
        }
        let healthy = [result.customerService, result.orderService].allSatisfy { $0.health?.status == .ok }
        if !healthy { throw ExitCode.failure }
    }

    private static func status(of service: ServiceClients.Service, clients: ServiceClients) async -> ServiceStatus {
        var status = ServiceStatus(url: clients.url(service).absoluteString)
        do {
            status.health = try await clients.readiness(of: service)
            status.replication = try await clients.replicationStatus(of: service)
        } catch {
            status.error = "\(error)"
        }
        return status
    }

    private func describe(_ name: String, _ status: ServiceStatus) -> String {
        var lines = ["\(name) at \(status.url)"]
        if let health = status.health {
            lines.append("  ready       \(health.status == .ok ? "yes" : "no")")
            if let database = health.database { lines.append("  database    \(database.status.rawValue)\(database.detail.map { " (\($0))" } ?? "")") }
            if let broker = health.broker { lines.append("  broker      \(broker.status.rawValue)\(broker.detail.map { " (\($0))" } ?? "")") }
        }
        if let replication = status.replication {
            let outbox = replication.outbox
            lines.append(
                "  outbox      \(outbox.pending) pending, oldest \(outbox.oldestPendingAgeMs) ms, last published #\(outbox.lastPublishedSequence), \(outbox.parked) parked"
            )
            let consumer = replication.consumer
            lines.append("  consumed    \(consumer.processed) applied, \(consumer.duplicates) duplicates, \(consumer.deadLettered) dead-lettered")
            lines.append("  replica     \(replication.replica.count) records, digest \(replication.replica.digest)")
            lines.append("  own table   \(replication.source.count) records, digest \(replication.source.digest)")
        }
        if let error = status.error { lines.append("  error       \(error)") }
        return lines.joined(separator: "\n")
    }
}
