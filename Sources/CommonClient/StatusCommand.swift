import ArgumentParser
import Foundation
import ServiceClient

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the health and replication status of both services.",
        discussion: """
            Then, per direction of replication: the records at the source and in the replica, what
            waits (in the source's outbox and in the subscriber's queue), the rate at which the
            subscriber drains it (from two readings --interval apart), the estimated time to catch
            up, and the parked and dead-lettered counts. Exits non-zero when a service is
            unreachable or not ready.
            """
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Seconds between the two readings that give the drain rate (0: one reading, no rate).")
    var interval = 1.5

    /// One direction of replication: how far the replica is behind its source.
    struct Direction: Encodable {
        /// `customers` or `orders`, and how many there are at the source and in the replica.
        var records: String, sourceRecords: Int64, replicaRecords: Int64
        /// Events not yet published at the source, and messages ready in the subscriber's queue (nil: the broker did not answer).
        var outboxPending: Int64, queueDepth: Int?
        /// Events the subscriber consumed per second between the two readings.
        var drainPerSecond: Double?
        /// (outbox + queue) / drain rate.
        var catchUpSeconds: Double?
        var parked: Int64
        var deadLettered: Int64
        var deadLetterQueue: Int?
    }

    struct ServiceStatus: Encodable {
        var url: String
        var health: Components.Schemas.Health?
        var replication: Components.Schemas.ReplicationStatus?
        var error: String?
    }

    struct Result: Encodable {
        var customerService: ServiceStatus
        var orderService: ServiceStatus
        var directions: [Direction]
    }

    func run() async throws {
        let clients = try options.clients()
        let first = await Self.statuses(clients)
        var second = first
        if interval > 0 {
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            second = await Self.statuses(clients)
        }
        let elapsed = interval > 0 ? interval : nil
        let directions = [
            Self.direction("customers", source: second.customer, replica: second.order, before: first.order, seconds: elapsed),
            Self.direction("orders", source: second.order, replica: second.customer, before: first.customer, seconds: elapsed),
        ].compactMap { $0 }
        let result = Result(customerService: second.customer, orderService: second.order, directions: directions)
        try Output(json: options.json).show(result) {
            ([describe("CustomerService", result.customerService), describe("OrderService", result.orderService)]
                + directions.map(Self.describe)).joined(separator: "\n")
        }
        let healthy = [result.customerService, result.orderService].allSatisfy { $0.health?.status == .ok }
        if !healthy { throw ExitCode.failure }
    }

    private static func statuses(_ clients: ServiceClients) async -> (customer: ServiceStatus, order: ServiceStatus) {
        async let customer = status(of: .customerService, clients: clients)
        async let order = status(of: .orderService, clients: clients)
        return await (customer, order)
    }

    /// The direction from `source` to `replica`; `before` is the replica's earlier reading, `seconds` before.
    static func direction(
        _ records: String, source: ServiceStatus, replica: ServiceStatus, before: ServiceStatus, seconds: Double?
    ) -> Direction? {
        guard let from = source.replication, let to = replica.replication else { return nil }
        var rate: Double?
        if let seconds, let earlier = before.replication {
            let consumed = { (status: Components.Schemas.ReplicationStatus) in
                status.consumer.processed + status.consumer.duplicates + status.consumer.deadLettered
            }
            // Each reading may be up to a second old (ageMs): the interval between them is what counts.
            let span = seconds + Double((earlier.ageMs ?? 0) - (to.ageMs ?? 0)) / 1000
            // (Retention may prune counted inbox rows in between: never a negative rate.)
            if span > 0 { rate = max(0, Double(consumed(to) - consumed(earlier)) / span) }
        }
        let waiting = from.outbox.pending + Int64(to.queue?.depth ?? 0)
        let catchUp: Double? =
            if waiting == 0 { 0 } else if let rate, rate > 0 { Double(waiting) / rate } else { nil }
        return Direction(
            records: records, sourceRecords: from.source.count, replicaRecords: to.replica.count, outboxPending: from.outbox.pending,
            queueDepth: to.queue?.depth, drainPerSecond: rate, catchUpSeconds: catchUp, parked: from.outbox.parked,
            deadLettered: to.consumer.deadLettered, deadLetterQueue: to.queue?.deadLetters)
    }

    static func describe(_ direction: Direction) -> String {
        let queue = direction.queueDepth.map(String.init) ?? "? (broker not answering)"
        let rate = direction.drainPerSecond.map { String(format: "%.0f/s", $0) } ?? "-"
        let eta =
            switch direction.catchUpSeconds {
            case 0?: "caught up"
            case let seconds?: String(format: "about %.0f s to catch up", seconds.rounded(.up))
            case nil: "catch-up time unknown (nothing drained between the readings)"
            }
        return """
            \(direction.records)
              records     \(direction.sourceRecords) at the source, \(direction.replicaRecords) in the replica
              waiting     \(direction.outboxPending) in the outbox, \(queue) in the queue; draining \(rate); \(eta)
              set aside   \(direction.parked) parked, \(direction.deadLettered) dead-lettered (\(direction.deadLetterQueue.map(String.init) ?? "?") in the dead-letter queue)
            """
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
