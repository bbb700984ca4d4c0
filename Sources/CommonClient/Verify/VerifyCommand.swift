import ArgumentParser
import Foundation

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that each replica holds exactly its source's records, versions and deletions.",
        discussion: """
            Compares, in both directions, the bucketed digests of (id, version, deleted, content)
            from GET /replication/digest, then only the buckets that differ record by record
            (GET /replication/records); content is a hash of the record's columns. A difference
            is checked again for --settle-seconds (records in flight arrive meanwhile) before it
            counts. Prints what stays different: missing, stale (an older version), extra,
            mismatched (a newer version, or the same version in another state or content).
            With --repair, resyncs exactly the ids that differ as a repair (from their source to
            the replica's queue): the replica overwrites its row whatever its version, and an
            extra record (in a replica, unknown at its source) becomes a tombstone there.
            Then verifies again.
            Exit status: 0 equal (after the repair, with --repair), 1 different, 2 could not tell
            (a service did not answer, or a repair failed).
            """
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Buckets per digest: a power of two from 1 to 4096.") var buckets = 256
    @Option(help: "How long a difference may take to go away before it counts.") var settleSeconds = 5.0
    @Option(help: "At most this many differences listed per direction in the text output (all in --json).") var show = 20
    @Flag(help: "Resync the records that differ, then verify again.") var repair = false

    func validate() throws {
        guard (1...4096).contains(buckets), buckets & (buckets - 1) == 0 else {
            throw ValidationError("--buckets must be a power of two from 1 to 4096")
        }
        guard settleSeconds >= 0 else { throw ValidationError("--settle-seconds must be 0 or more") }
    }

    func run() async throws {
        let clients = try options.clients()
        let verifier = ReplicaVerifier(clients: clients, buckets: buckets, settle: .milliseconds(Int64(settleSeconds * 1000)))
        var reports = try await verifyBoth(verifier)
        if repair, !reports.allSatisfy(\.equal) {
            if !options.json { print(reports.map(describe).joined(separator: "\n")) }
            do {
                for (direction, report) in zip(ReplicaVerifier.Direction.both, reports) where !report.repairable.isEmpty {
                    let job = try await clients.runResync(at: direction.source, to: direction.subscriber, ids: report.repairable, repair: true)
                    if !options.json { print("repair: resync \(job.id) sent \(job.sent) \(direction.records) to \(direction.subscriber)") }
                }
            } catch {
                FileHandle.standardError.write(Data("could not repair: \(error)\n".utf8))
                throw ExitCode(2)
            }
            reports = try await verifyBoth(verifier)
        }
        try Output(json: options.json).show(reports) { reports.map(describe).joined(separator: "\n") }
        if !reports.allSatisfy(\.equal) { throw ExitCode.failure }
    }

    /// Both directions' reports; exits with status 2 when a service does not answer.
    private func verifyBoth(_ verifier: ReplicaVerifier) async throws -> [ReplicaVerifier.Report] {
        do {
            var reports: [ReplicaVerifier.Report] = []
            for direction in ReplicaVerifier.Direction.both {
                reports.append(try await verifier.verify(direction))
            }
            return reports
        } catch {
            FileHandle.standardError.write(Data("could not verify: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func describe(_ report: ReplicaVerifier.Report) -> String {
        let counts = "\(report.sourceCount) at the source, \(report.replicaCount) in the replica"
        guard !report.equal else { return "\(report.records) (\(report.source) → \(report.replica)): equal, \(counts)" }
        let kinds = Dictionary(grouping: report.differences, by: \.kind).sorted { $0.key.rawValue < $1.key.rawValue }
        var lines = [
            "\(report.records) (\(report.source) → \(report.replica)): DIFFERENT, \(counts): "
                + kinds.map { "\($0.value.count) \($0.key.rawValue)" }.joined(separator: ", ")
        ]
        for difference in report.differences.prefix(show) {
            lines.append(
                "  \(difference.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(difference.id)  "
                    + "source \(Self.state(difference.source)), replica \(Self.state(difference.replica))")
        }
        if report.differences.count > show { lines.append("  … \(report.differences.count - show) more (--json lists all)") }
        return lines.joined(separator: "\n")
    }

    private static func state(_ record: VersionedID?) -> String {
        guard let record else { return "none" }
        return "v\(record.version)\(record.deleted ? " deleted" : "")"
    }
}
