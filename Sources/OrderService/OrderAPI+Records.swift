import Contract
import OrderAPI
import Replication
import ServiceSupport

// Conversions from the service's records to the generated HTTP types.

extension Components.Schemas.Order {
    init(_ order: OrderRecord) {
        self.init(
            id: order.id.lowercased, customerId: order.customerId.lowercased, amount: order.amount,
            status: .created, createdAt: order.createdAt, version: order.version, updatedAt: order.updatedAt
        )
    }
}

extension Components.Schemas.ReplicatedCustomer {
    init(_ replicated: Replicated<CustomerRecord>) {
        let customer = replicated.record
        self.init(
            value1: .init(
                id: customer.id.lowercased, name: customer.name, email: customer.email,
                creditLimit: customer.creditLimit, createdAt: customer.createdAt, version: customer.version, updatedAt: customer.updatedAt
            ),
            value2: .init(replicatedAt: replicated.replicatedAt, eventId: replicated.eventId.lowercased, requestId: replicated.requestId)
        )
    }
}
