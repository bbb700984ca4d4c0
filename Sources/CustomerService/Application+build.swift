import Contract
import Hummingbird
import Logging
import OpenAPIHummingbird
import Replication
import ServiceSupport

/// CustomerService: it owns customers (`customers`), publishes `customer.created` to
/// `customer.events`, and replicates `order.created` into `replica_orders`.
/// `customer-service`'s `main` and the tests build it with ``ReplicatingService/build(configuration:logger:listening:)``.
public var customerService: ReplicatingService<CustomerRecord, OrderRecord> {
    ReplicatingService(
        migrations: CustomerServiceMigrations.all,
        owns: CustomerRecord.self,
        ownTable: "customers",
        tombstoneTable: "deleted_customers",
        exchange: \.customerEvents,
        subscription: .init(exchange: \.orderEvents, queue: \.orderEventsQueue),
        replica: ReplicaTable<OrderRecord>(name: "replica_orders")
    ) { changes, replicaOrders, logger in
        try buildCustomerRouter(customers: CustomerRepository(changes: changes, replicaOrders: replicaOrders), logger: logger)
    }
}

/// The router of CustomerService's API over `customers`, with the shared middleware
/// (the HTTP contract tests call it with a store of their own, and no server).
func buildCustomerRouter(customers: some CustomerStore, logger: Logger) throws -> Router<BasicRequestContext> {
    let router = ServiceRouter.make()
    try CustomerAPIHandler(customers: customers, logger: logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    return router
}
