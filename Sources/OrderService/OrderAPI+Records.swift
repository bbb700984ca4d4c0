import Contract
import OrderAPI
import Replication
import ServiceSupport

// Conversions from the service's records to the generated HTTP types.

extension Components.Schemas.Order {
    init(_ order: OrderRecord) {
        self.init(
            id: order.id.lowercased, customerId: order.customerId.lowercased, amount: order.amount,
            status: .created, createdAt: order.createdAt
        )
    }
}

extension Components.Schemas.ReplicatedCustomer {
    init(_ replicated: Replicated<CustomerRecord>) {
        let customer = replicated.record
        self.init(
            value1: .init(
                id: customer.id.lowercased, name: customer.name, email: customer.email,
                creditLimit: customer.creditLimit, createdAt: customer.createdAt
            ),
            value2: .init(replicatedAt: replicated.replicatedAt, eventId: replicated.eventId.lowercased, requestId: replicated.requestId)
        )
    }
}

extension Components.Schemas.Health {
    init(_ readiness: Readiness, service: String) {
        self.init(
            status: readiness.isReady ? .ok : .unavailable,
            service: service,
            database: .init(status: readiness.database.up ? .up : .down, detail: readiness.database.detail),
            broker: .init(status: readiness.broker.up ? .up : .down, detail: readiness.broker.detail)
        )
    }
}

extension Components.Schemas.ReplicationStatus {
    init(_ status: ReplicationStatus) {
        self.init(
            outbox: .init(
                pending: status.outbox.pending,
                oldestPendingAgeMs: status.outbox.oldestPendingAgeMs,
                lastPublishedSequence: status.outbox.lastPublishedSequence
            ),
            consumer: .init(processed: status.processed, duplicates: status.duplicates, deadLettered: status.deadLettered),
            replica: .init(count: status.replica.count, digest: status.replica.digest),
            source: .init(count: status.source.count, digest: status.source.digest)
        )
    }
}
