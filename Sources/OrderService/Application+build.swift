import Contract
import Hummingbird
import Logging
import OpenAPIHummingbird
import Replication
import ServiceSupport

/// OrderService: it owns orders (`orders`), publishes `order.created` to `order.events`,
/// and replicates `customer.created` into `replica_customers`, which it checks new orders against.
/// `order-service`'s `main` and the tests build it with ``ReplicatingService/build(configuration:logger:listening:)``.
public var orderService: ReplicatingService<OrderRecord, CustomerRecord> {
    ReplicatingService(
        migrations: OrderServiceMigrations.all,
        owns: OrderRecord.self,
        ownTable: "orders",
        exchange: \.orderEvents,
        subscription: .init(exchange: \.customerEvents, queue: \.customerEventsQueue),
        replica: ReplicaTable<CustomerRecord>(name: "replica_customers")
    ) { changes, replicaCustomers, logger in
        try buildOrderRouter(orders: OrderRepository(changes: changes, replicaCustomers: replicaCustomers), logger: logger)
    }
}

/// The router of OrderService's API over `orders`, with the shared middleware
/// (the HTTP contract tests call it with a store of their own, and no server).
func buildOrderRouter(orders: some OrderStore, logger: Logger) throws -> Router<BasicRequestContext> {
    let router = ServiceRouter.make()
    try OrderAPIHandler(orders: orders, logger: logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: Timestamp.transcoder))
    return router
}
