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
            databaseState = Dependency(up: false, detail: (error as? PostgresError)?.message ?? "\(error)")
        }
        let brokerUp = publisher.isConnected
        return Readiness(
            database: databaseState,
            broker: Dependency(up: brokerUp, detail: brokerUp ? nil : "not connected; events wait in the outbox")
        )
    }
}
