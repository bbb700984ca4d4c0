import ArgumentParser
import Contract
import Foundation
import ServiceClient

struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List, replay or discard the messages in a service's dead-letter queue.",
        subcommands: [List.self, Replay.self, Discard.self]
    )

    /// The service whose dead-letter queue it is.
    struct Target: ParsableArguments {
        @Option(help: "customer-service or order-service: whose dead-letter queue (the events it could not apply).")
        var service: String

        var client: ServiceClients.Service {
            get throws {
                // As retry-parked takes them, and as the services are named.
                switch service {
                case "customer", "customer-service": return .customerService
                case "order", "order-service": return .orderService
                default: throw ValidationError("--service must be customer (customer-service) or order (order-service)")
                }
            }
        }
    }

    /// Which dead letters: `--event-ids`, `--reason` or `--all`, exactly one.
    struct Choice: ParsableArguments {
        @Option(parsing: .upToNextOption, help: "The event ids (message ids) to take.")
        var eventIds: [String] = []
        @Option(help: "Take the dead letters with this reason (invalid-data, unknown-type, delivery-limit, …).")
        var reason: String?
        @Flag(help: "Take every dead letter.")
        var all = false

        func validate() throws {
            let chosen = [!eventIds.isEmpty, reason != nil, all].filter { $0 }.count
            guard chosen == 1 else { throw ValidationError("choose exactly one of --event-ids, --reason, --all") }
        }

        var selection: Components.Schemas.DeadLetterSelection {
            if let reason { return .case2(.init(reason: reason)) }
            if all { return .case3(.init(all: true)) }
            return .case1(.init(eventIds: eventIds))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the dead letters, oldest first, without consuming them.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var target: Target
        @Option(help: "At most this many (1…1000).") var limit = 50

        func run() async throws {
            let list = try await options.clients().deadLetters(of: try target.client, limit: limit)
            try Output(json: options.json).show(list) {
                var lines = ["\(list.total) dead letter\(list.total == 1 ? "" : "s") at \(target.service)"]
                for item in list.items {
                    lines.append(
                        "  \(item.at.map { Timestamp.format($0) } ?? "-")  \(item.eventId ?? "-")  \(item._type ?? "-")  \(item.reason)\(item.detail.map { ": \($0)" } ?? "")"
                    )
                }
                if list.items.count < list.total { lines.append("  … \(list.total - list.items.count) more (--limit)") }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move dead letters back into the service's queue (each is applied at most once).")
        @OptionGroup var settle: Settle

        func run() async throws { try await settle.run(replay: true) }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop dead letters.")
        @OptionGroup var settle: Settle

        func run() async throws { try await settle.run(replay: false) }
    }

    /// What a replay and a discard share: the service, the choice, and the call.
    struct Settle: ParsableArguments {
        @OptionGroup var options: ClientOptions
        @OptionGroup var target: Target
        @OptionGroup var choice: Choice

        func run(replay: Bool) async throws {
            let count = try await options.clients().settleDeadLetters(of: try target.client, choice.selection, replay: replay)
            let (key, text) =
                replay
                ? ("replayed", "\(count) replayed into \(target.service)'s queue")
                : ("discarded", "\(count) discarded from \(target.service)'s dead-letter queue")
            try Output(json: options.json).show([key: count]) { text }
        }
    }
}

extension ServiceClients {
    /// `GET /replication/dead-letters` of one service.
    public func deadLetters(of service: Service, limit: Int) async throws -> Components.Schemas.DeadLetterList {
        let output = try await callOperation(service, { try await $0.listDeadLetters(query: .init(limit: limit)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try service.failure(answering: output)
        }
    }

    /// `POST /replication/dead-letters/replay` (or `…/discard`) of one service; how many.
    func settleDeadLetters(of service: Service, _ selection: Components.Schemas.DeadLetterSelection, replay: Bool) async throws -> Int {
        if replay {
            let output = try await callOperation(service, { try await $0.replayDeadLetters(body: .json(selection)) })
            switch output {
            case .ok(let ok): return try ok.body.json.replayed
            default: throw try service.failure(answering: output)
            }
        }
        let output = try await callOperation(service, { try await $0.discardDeadLetters(body: .json(selection)) })
        switch output {
        case .ok(let ok): return try ok.body.json.discarded
        default: throw try service.failure(answering: output)
        }
    }
}
