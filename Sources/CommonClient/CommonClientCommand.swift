import ArgumentParser

/// `common-client`: creates, changes and reads records at both services, shows their
/// replication status, and runs the load test.
public struct CommonClientCommand: AsyncParsableCommand {
    /// The command's name, help and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "common-client",
        abstract: "Talk to CustomerService and OrderService, and check that they replicate.",
        discussion: """
            Service URLs come from --customer-service-url / --order-service-url, else from
            CUSTOMER_SERVICE_URL / ORDER_SERVICE_URL, else http://127.0.0.1:8081 and :8082.
            The operations (status, verify, resync, dead-letters, trace, retry-parked) go to the
            admin listeners: --customer-service-admin-url / --order-service-admin-url, else
            CUSTOMER_SERVICE_ADMIN_URL / ORDER_SERVICE_ADMIN_URL, else http://127.0.0.1:9081 and
            :9082, with the operations token from --token-file, else OPERATIONS_TOKEN.
            A failure prints one line and exits non-zero.
            """,
        subcommands: [
            CreateCustomer.self, CreateOrder.self, UpdateCustomer.self, DeleteCustomer.self, CancelOrder.self,
            GetCustomer.self, GetOrder.self, ListCustomers.self, ListOrders.self, Status.self, RetryParked.self,
            Verify.self, ResyncCommand.self, DeadLettersCommand.self, TraceCommand.self,
            LoadTestCommand.self,
        ]
    )

    /// Creates the command.
    public init() {}
}
