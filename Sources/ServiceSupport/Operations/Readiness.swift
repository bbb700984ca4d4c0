import AMQP
import Logging
import Postgres

/// Whether a service accepts writes, and the state of each dependency.
public struct Readiness: Sendable {
    /// One dependency's state.
    public struct Dependency: Sendable {
        /// Reachable.
        public var up: Bool
        /// Why not, when it is not.
        public var detail: String?
    }

    /// The database.
    public var database: Dependency
    /// The broker.
    public var broker: Dependency
    /// Writes are accepted (the database is up; the broker is not needed, the outbox holds events).
    public var isReady: Bool { database.up }

    /// Checks `database` with a query and `publisher`'s connection.
    public static func check(database: PostgresClient, publisher: AMQPPublisher) async -> Readiness {
        let databaseState: Dependency
        do {
            _ = try await database.query("SELECT 1")
            databaseState = Dependency(up: true, detail: nil)
        } catch {
            // Only the kind of failure: libpq's text names hosts, addresses and roles (it goes to the log elsewhere).
            let kind = (error as? PostgresError).map { "\($0.code)" } ?? "unknown error"
            databaseState = Dependency(up: false, detail: "unavailable (\(kind))")
        }
        let broker: Dependency
        if !publisher.isConnected {
            broker = Dependency(up: false, detail: "not connected; events wait in the outbox")
        } else if publisher.isBlocked {
            broker = Dependency(up: false, detail: "blocked by a broker resource alarm (memory or disk); events wait in the outbox")
        } else {
            broker = Dependency(up: true, detail: nil)
        }
        return Readiness(database: databaseState, broker: broker)
    }
}
