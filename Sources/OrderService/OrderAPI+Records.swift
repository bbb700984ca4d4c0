import Contract
import OrderAPI
import Replication
import ServiceSupport

// Conversions from the service's records to the generated HTTP types.

extension Components.Schemas.Order {
    init(_ order: OrderRecord) {
        self.init(
            id: order.id.lowercased, customerId: order.customerId.lowercased, amount: order.amount,
            status: .init(order.status), createdAt: order.createdAt, version: order.version, updatedAt: order.updatedAt
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

extension Components.Schemas.Order.StatusPayload {
    /// The contract's status; the database's CHECK and the consumer's field rules admit no other.
    init(_ status: String) {
        guard let known = Self(rawValue: status) else { preconditionFailure("order status \(status) is not in the contract") }
        self = known
    }
}
