import ArgumentParser
import Foundation
import Logging
import Postgres

/// Measures single-statement autocommit INSERTs through the Swift `Postgres` layer on one
/// connection, the figure `scripts/bench/postgres.sh` compares with pgbench. Prints one line,
/// `swift-postgres inserts=N seconds=S tps=T p50_us=... p99_us=...`.
struct PostgresBench: ParsableArguments {
    @Option(help: "PostgreSQL URL or conninfo string (default: $TEST_POSTGRES_URL).")
    var url: String?

    @Option(name: .shortAndLong, help: "Number of INSERT transactions to time.")
    var count = 20_000

    @Option(help: "Untimed INSERTs before the timed ones.")
    var warmup = 500

    @Flag(help: "Lease a pooled connection for every INSERT (client.query) instead of holding one.")
    var perQueryLease = false

    func benchmark() async throws {
        guard let url = self.url ?? ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"] else {
            throw ValidationError("pass --url or set TEST_POSTGRES_URL")
        }
        var configuration = PostgresConfiguration(connectionString: url, poolSize: 1)
        configuration.applicationName = "postgres-bench"
        let client = PostgresClient(configuration: configuration, logger: Logger(label: "postgres-bench"))
        let latencies: [Duration]
        do {
            latencies = try await self.measure(client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        self.report(latencies)
    }

    private func measure(_ client: PostgresClient) async throws -> [Duration] {
        let insert = "INSERT INTO bench (id, name, created_at) VALUES ($1, $2, $3)"
        try await client.withConnection { connection in
            try await connection.execute(
                "CREATE TABLE IF NOT EXISTS bench (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL)"
            )
        }
        let perQueryLease = self.perQueryLease
        let (count, warmup) = (self.count, self.warmup)
        return try await client.withConnection { connection in
            for index in 0..<warmup {
                _ = try await connection.query(insert, [UUID(), "warmup-\(index)", Date()])
            }
            let clock = ContinuousClock()
            var latencies: [Duration] = []
            latencies.reserveCapacity(count)
            for index in 0..<count {
                let start = clock.now
                if perQueryLease {
                    _ = try await client.query(insert, [UUID(), "name-\(index)", Date()])
                } else {
                    _ = try await connection.query(insert, [UUID(), "name-\(index)", Date()])
                }
                latencies.append(clock.now - start)
            }
            return latencies
        }
    }

    private func report(_ latencies: [Duration]) {
        let total = latencies.reduce(Duration.zero, +)
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func microseconds(_ quantile: Double) -> Int {
            let duration = sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
            return Int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        }
        print(
            "swift-postgres inserts=\(latencies.count) seconds=\(String(format: "%.3f", seconds)) "
                + "tps=\(String(format: "%.1f", Double(latencies.count) / seconds)) "
                + "p50_us=\(microseconds(0.5)) p99_us=\(microseconds(0.99))"
        )
    }
}
