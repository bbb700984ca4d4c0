import Contract
import Foundation
import Postgres

/// Where a service records its changes: each change and the event that describes it commit in
/// one database transaction (the transactional outbox), and the relay is woken after the commit.
///
/// Bound once to the service's own exchange, so a repository never names one:
///
/// ```swift
/// try await changes.transaction { change in
///     try await change.connection.query("INSERT INTO customers …", […])
///     try await change.append(.customerCreated, data: json, requestId: requestId)
/// }
/// ```
public struct ChangeLog: Sendable {
    /// The service's database.
    public let database: PostgresClient
    /// The fanout exchange the service's events go to.
    public let exchange: String
    private let relay: OutboxRelay
    /// Whether a tracer is bootstrapped, read once: every change asks.
    private let spansRecorded = Spans.areRecorded

    /// Records changes in `database` whose events `relay` publishes to `exchange`.
    public init(database: PostgresClient, exchange: String, relay: OutboxRelay) {
        self.database = database
        self.exchange = exchange
        self.relay = relay
    }

    /// Runs `body` in one transaction; when it appended events and the transaction committed,
    /// wakes the relay so they are published at once.
    public func transaction<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (ChangeTransaction) async throws -> T
    ) async throws -> T {
        // The span of the transaction is what its outbox rows' `traceparent` names.
        let (value, appended) = try await Spans.withCurrentSpan("transaction", recorded: spansRecorded) {
            try await database.withTransaction { connection in
                let transaction = ChangeTransaction(connection: connection, exchange: exchange)
                let value = try await body(transaction)
                return (value, transaction.appended)
            }
        }
        if appended > 0 { relay.wake() }
        return value
    }
}

/// A transaction of ``ChangeLog``: the connection for the change's own statements, and
/// ``append(_:data:requestId:)`` for its event. Used only inside ``ChangeLog/transaction(isolation:_:)``.
public final class ChangeTransaction {
    /// The connection, inside the transaction.
    public let connection: PostgresConnection
    private let exchange: String
    /// How many events were appended.
    private(set) var appended = 0

    init(connection: PostgresConnection, exchange: String) {
        self.connection = connection
        self.exchange = exchange
    }

    /// Appends the event of this change to the outbox; `data` is the record's JSON exactly as
    /// the HTTP API returns it. The row goes to the database with the transaction's `COMMIT`, in
    /// one round trip (``Outbox/appendAtCommit(_:on:)``).
    public func append(_ type: EventType, data: String, requestId: String?) async throws {
        // The request's trace goes with the event (W3C trace context, docs/design.md#trace).
        let headers = TraceParent.current.map { ["traceparent": $0.description] } ?? [:]
        try await Outbox.appendAtCommit(
            OutboxEvent(type: type.rawValue, exchange: exchange, data: data, requestId: requestId, headers: headers),
            on: connection
        )
        appended += 1
    }
}
