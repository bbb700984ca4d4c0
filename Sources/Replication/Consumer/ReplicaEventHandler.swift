import Foundation
import Postgres

/// What a subscribing service does with the events in its queue: check them,
/// then write its replica rows. ``ReplicaConsumer`` does the rest (inbox, ack,
/// dead-lettering, retries, batching).
public protocol ReplicaEventHandler: Sendable {
    /// The checked change, ready to write; its `id` is the id of the replicated record, its
    /// `version` orders the changes of one record (the replica keeps the highest).
    associatedtype Change: Identifiable & Sendable & Versioned where Change.ID == UUID

    /// Decodes and validates the event's record; throws ``PoisonMessage`` with
    /// `unknown-type` or `invalid-data` when the event can never be applied.
    func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> Change

    /// Writes the replica rows of `changes` on `connection`, inside the consumer's
    /// transaction, and returns the ids of the records that were new.
    ///
    /// The changes are for distinct records, in the order of their ids. Use one statement for all of them
    /// (`INSERT ... SELECT * FROM unnest($1::uuid[], ...) ON CONFLICT (id) DO UPDATE ... WHERE
    /// version < EXCLUDED.version RETURNING id`), which keeps that order, so concurrent batches
    /// never deadlock; a change not newer than the record already there (a replay, a late
    /// older event) must change nothing and is left out of the result.
    func apply(_ changes: [PreparedEvent<Change>], on connection: PostgresConnection) async throws -> Set<UUID>
}
