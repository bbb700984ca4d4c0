import Foundation

extension LoadTestReport {
    /// The report for people: throughput and latency per operation, replication
    /// lag of creates and of changes per direction, convergence, errors and the verdict.
    public func text() -> String {
        var lines: [String] = []
        let rate = targetRate.map { ", target \(format($0, 0)) req/s" } ?? ""
        lines.append(
            "load test \(runID): \(count) requests, concurrency \(concurrency)\(rate), order ratio \(format(orderRatio, 2)), "
                + "update \(format(updateRatio, 2)), delete \(format(deleteRatio, 2)), cancel \(format(cancelRatio, 2))")
        lines.append(
            "  \(format(durationSeconds, 2)) s, \(format(requestsPerSecond, 1)) successful req/s, \(format(replicatedPerSecond, 1)) records/s replicated (until the last replica row)"
        )
        lines.append("")
        lines.append(row("operation", "ok", "failed", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"))
        for operation in LoadTestOperation.allCases {
            guard let summary = operations[operation] else { continue }
            let latency = summary.latencyMs
            lines.append(
                row(
                    operation.rawValue, "\(summary.succeeded)", "\(summary.failed)", format(summary.requestsPerSecond, 1),
                    format(latency.p50, 2), format(latency.p90, 2), format(latency.p99, 2), format(latency.max, 2)
                ))
        }
        if notYetReplicated > 0 {
            lines.append(
                "  (\(notYetReplicated) order attempts answered 422 unknown-customer before the customer had replicated; retried, not errors)")
        }
        if ordersForDeletedCustomers > 0 {
            lines.append(
                "  (\(ordersForDeletedCustomers) orders answered 422 unknown-customer because this run had deleted their customer; as it should be, not errors)"
            )
        }
        lines.append("")
        lines.append(row("replication lag", "records", "", "", "p50 ms", "p90 ms", "p99 ms", "max ms"))
        lines.append(lagRow("customers → OrderService", customersToOrderService.lagMs))
        lines.append(lagRow("orders → CustomerService", ordersToCustomerService.lagMs))
        lines.append(lagRow("customer updates → OrderService", operations[.updateCustomer]?.replicationLagMs))
        lines.append(lagRow("customer deletes → OrderService", operations[.deleteCustomer]?.replicationLagMs))
        lines.append(lagRow("order cancels → CustomerService", operations[.cancelOrder]?.replicationLagMs))
        lines.append("  (source commit → replica write, both by the database clock: creates' createdAt, of the records not changed")
        lines.append("   later; changes' updatedAt, deletes' deletedAt; each → the replica row's or tombstone's replicatedAt)")
        let bounds = LoadTestOperation.allCases.compactMap { operations[$0]?.boundedLags }.reduce(0, +)
        if bounds > 0 {
            lines.append("  (\(bounds) changes left out: a later version reached the replica before the probe read them, so only a bound is known)")
        }
        if let probe = probeFirstReadMs {
            lines.append(
                "  (the probe read each change first \(format(probe.p50, 1)) ms after its answer, p99 \(format(probe.p99, 1)) ms,"
                    + " max \(format(probe.max, 1)) ms: how far it fell behind, not part of the lag)")
        }
        lines.append("")
        lines.append(
            converged
                ? "convergence: both replicas matched their sources \(format(convergenceSeconds, 2)) s after the last request"
                : "convergence: NOT reached within the timeout (\(format(convergenceSeconds, 1)) s)")
        lines += describe("customers → OrderService", customersToOrderService, source: "CustomerService customers", replica: "OrderService replica")
        lines += describe("orders → CustomerService", ordersToCustomerService, source: "OrderService orders", replica: "CustomerService replica")
        lines.append("")
        if errors.isEmpty {
            lines.append("errors: none")
        } else {
            lines.append("errors:")
            for (kind, count) in errors.sorted(by: { $0.value > $1.value }) {
                lines.append("  \(count) × \(kind)")
                if let example = errorExamples[kind] { lines.append("      e.g. \(example)") }
            }
        }
        lines.append("result: \(passed ? "PASS" : "FAIL")")
        return lines.joined(separator: "\n")
    }

    private func lagRow(_ name: String, _ lag: Percentiles?) -> String {
        guard let lag else { return row(name, "0", "", "", "-", "-", "-", "-") }
        return row(name, "\(lag.count)", "", "", format(lag.p50, 1), format(lag.p90, 1), format(lag.p99, 1), format(lag.max, 1))
    }

    private func describe(_ name: String, _ direction: Replication, source: String, replica: String) -> [String] {
        let digests = direction.sourceDigest == direction.replicaDigest && direction.sourceCount == direction.replicaCount
        var lines = [
            "  \(name): \(direction.present) of \(direction.created) created present once at their last version, "
                + "\(direction.deleted) deleted and gone (\(direction.changed) changes); "
                + "\(direction.missing.count) lost, \(direction.stale.count) stale, \(direction.revived.count) revived, "
                + "\(direction.mismatched.count) different",
            "    \(source) \(direction.sourceCount) (\(direction.sourceDigest)) "
                + "\(digests ? "=" : "≠") \(replica) \(direction.replicaCount) (\(direction.replicaDigest))",
        ]
        if direction.deadLettered > 0 || direction.duplicateDeliveries > 0 {
            lines.append("    during the run: \(direction.deadLettered) dead-lettered, \(direction.duplicateDeliveries) duplicate deliveries ignored")
        }
        for (label, ids) in [
            ("lost", direction.missing), ("stale", direction.stale), ("revived", direction.revived), ("different", direction.mismatched),
        ] {
            for id in ids.prefix(10) { lines.append("    \(label) \(id)") }
        }
        return lines
    }

    private func row(_ columns: String...) -> String {
        let widths = [33, 8, 7, 9, 9, 9, 9, 9]
        return zip(columns, widths).enumerated().map { index, pair in
            let (text, width) = pair
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return index == 0 ? text + padding : padding + text
        }.joined()
    }

    private func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
