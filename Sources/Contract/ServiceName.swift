/// The AMQP `app_id` of each service's events.
public enum ServiceName: String, Sendable {
    /// CustomerService.
    case customerService = "customer-service"
    /// OrderService.
    case orderService = "order-service"
}

extension ServiceName {
    /// The other service: whose events this one replicates.
    public var peer: ServiceName {
        self == .customerService ? .orderService : .customerService
    }
}
