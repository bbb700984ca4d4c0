import Contract
import Foundation
import OperationsAPI
import Replication

// The generated bodies of the operations endpoints, made from what the services know.

extension Components.Schemas.DependencyHealth {
    /// One dependency's state in a `Health` body.
    init(_ dependency: Readiness.Dependency) {
        self.init(status: dependency.up ? .up : .down, detail: dependency.detail)
    }
}

extension Components.Schemas.ReplicationStatus {
    /// The status read `age` ago.
    init(_ status: ReplicationStatus, age: Duration) {
        self.init(
            ageMs: age.milliseconds,
            outbox: .init(
                pending: status.outbox.pending, oldestPendingAgeMs: status.outbox.oldestPendingAgeMs,
                lastPublishedSequence: status.outbox.lastPublishedSequence, parked: status.outbox.parked),
            consumer: .init(processed: status.processed, duplicates: status.duplicates, deadLettered: status.deadLettered),
            replica: .init(count: status.replica.count, digest: status.replica.digest),
            source: .init(count: status.source.count, digest: status.source.digest),
            queue: status.queues.map { .init(depth: $0.queue, deadLetters: $0.deadLetters) })
    }
}

extension Components.Schemas.ResyncJob {
    /// A job, with lowercase ids and the contract's times.
    init(_ job: ResyncJob) {
        self.init(
            id: job.id.lowercased, subscriber: job.subscriber, state: .init(rawValue: job.state.rawValue) ?? .failed,
            total: job.total, sent: job.sent, error: job.error, startedAt: job.startedAt, finishedAt: job.finishedAt)
    }
}

extension Components.Schemas.DeadLetterList.ItemsPayloadPayload {
    /// One dead letter.
    init(_ letter: DeadLetter) {
        self.init(
            eventId: letter.eventId, _type: letter.type, reason: letter.reason, detail: letter.detail, at: letter.at, body: letter.body)
    }
}

extension Components.Schemas.Trace.HopsPayloadPayload {
    /// One hop, with a lowercase record id.
    init(_ hop: TraceHop) {
        self.init(
            at: hop.at, service: hop.service, step: .init(rawValue: hop.step.rawValue) ?? .committed, entity: hop.entity,
            id: hop.id?.lowercased, version: hop.version, eventId: hop.eventId, detail: hop.detail)
    }
}
