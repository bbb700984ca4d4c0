/// The requests a load test makes: creates, and changes of records it created.
public enum LoadTestOperation: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable {
    /// `POST /customers` at CustomerService.
    case createCustomer
    /// `POST /orders` at OrderService.
    case createOrder
    /// `PATCH /customers/{id}` at CustomerService.
    case updateCustomer
    /// `DELETE /customers/{id}` at CustomerService.
    case deleteCustomer
    /// `POST /orders/{id}/cancel` at OrderService.
    case cancelOrder

    /// The service that owns the records this operation creates or changes.
    var source: ServiceClients.Service {
        switch self {
        case .createCustomer, .updateCustomer, .deleteCustomer: .customerService
        case .createOrder, .cancelOrder: .orderService
        }
    }

    /// The create of the kind of record this operation creates or changes: the key of its
    /// replication direction in the report.
    var create: LoadTestOperation {
        source == .customerService ? .createCustomer : .createOrder
    }

    /// Whether it creates a record (rather than changing one).
    var isCreate: Bool { self == create }
}
