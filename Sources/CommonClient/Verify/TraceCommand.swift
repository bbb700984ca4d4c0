import ArgumentParser
import Contract
import Foundation
import ServiceClient

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show what a request did in both services, as one timeline.",
        discussion: """
            Asks both services (GET /trace/{requestId}) and merges their hops in time order, with the
            time from the first hop: committed (the change and its event), published (the broker
            confirmed), applied or ignored (at the replica), dead-lettered. Ends with where the request
            stands: an event still in an outbox or in flight is named. Exits non-zero when no service
            knows the request id.
            """
    )

    typealias Hop = Components.Schemas.Trace.HopsPayloadPayload

    @OptionGroup var options: ClientOptions

    @Argument(help: "The request id (X-Request-ID; printed by every command that changes something).")
    var requestId: String

    struct Result: Encodable {
        var requestId: String
        var hops: [Hop]
        var pending: [String]
    }

    func run() async throws {
        let clients = try options.clients()
        let requestId = requestId
        async let customer = clients.trace(requestId, at: .customerService)
        async let order = clients.trace(requestId, at: .orderService)
        let hops = Self.timeline(try await customer + order)
        guard !hops.isEmpty else {
            FileHandle.standardError.write(Data("no service knows request \(requestId)\n".utf8))
            throw ExitCode.failure
        }
        let result = Result(requestId: requestId, hops: hops, pending: Self.pending(hops))
        try Output(json: options.json).show(result) { describe(result) }
    }

    /// The hops in time order, except that an event's `published` comes before the other service's
    /// hop of the same event: the relay records the broker's confirm after it arrived, which can
    /// be after the other service already applied the event.
    static func timeline(_ hops: [Hop]) -> [Hop] {
        var consumed: [String: Date] = [:]
        for hop in hops where hop.step == .applied || hop.step == .ignored || hop.step == .deadLettered {
            if let eventId = hop.eventId { consumed[eventId] = min(consumed[eventId] ?? hop.at, hop.at) }
        }
        func order(_ hop: Hop) -> (Date, Int) {
            guard hop.step == .published, let eventId = hop.eventId, let first = consumed[eventId], first < hop.at else { return (hop.at, 1) }
            return (first, 0)
        }
        return hops.sorted { order($0) < order($1) }
    }

    /// What has not happened yet: an event committed but not published, or published but not applied anywhere.
    static func pending(_ hops: [Hop]) -> [String] {
        let byEvent = Dictionary(grouping: hops.filter { $0.eventId != nil }, by: { $0.eventId! })
        return byEvent.keys.sorted().compactMap { eventId in
            let steps = Set(byEvent[eventId]!.map(\.step))
            let committed = byEvent[eventId]!.first { $0.step == .committed }
            let event = "event \(eventId)\(committed?.detail.map { " (\($0))" } ?? "")"
            if steps.contains(.applied) || steps.contains(.ignored) || steps.contains(.deadLettered) { return nil }
            if steps.contains(.published) { return "\(event): published, not applied by the other service yet (in its queue)" }
            if let committed { return "\(event): waiting in \(committed.service)'s outbox" }
            return nil
        }
    }

    private func describe(_ result: Result) -> String {
        let start = result.hops[0].at
        let span = Int((result.hops.last!.at.timeIntervalSince(start) * 1000).rounded())
        var lines = ["request \(result.requestId): \(result.hops.count) hops over \(span) ms"]
        for hop in result.hops {
            let offset = "+\(Int((hop.at.timeIntervalSince(start) * 1000).rounded())) ms"
            let record = [hop.entity, hop.id, hop.version.map { "v\($0)" }].compactMap { $0 }.joined(separator: " ")
            lines.append(
                "  \(offset.padding(toLength: 9, withPad: " ", startingAt: 0)) \(hop.service.padding(toLength: 16, withPad: " ", startingAt: 0)) "
                    + "\(hop.step.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(record)"
                    + "\(hop.eventId.map { "  event \($0)" } ?? "")\(hop.detail.map { "  \($0)" } ?? "")")
        }
        lines.append(
            contentsOf: result.pending.isEmpty ? ["finished: every event reached the other service"] : result.pending.map { "pending: \($0)" })
        return lines.joined(separator: "\n")
    }
}

extension ServiceClients {
    /// `GET /trace/{requestId}` of one service: its hops.
    func trace(_ requestId: String, at service: Service) async throws -> [Components.Schemas.Trace.HopsPayloadPayload] {
        let output = try await callOperation(service, { try await $0.getTrace(path: .init(requestId: requestId)) })
        switch output {
        case .ok(let ok): return try ok.body.json.hops
        default: throw try service.failure(answering: output)
        }
    }
}
