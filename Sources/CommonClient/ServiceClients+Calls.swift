import Foundation
import OpenAPIRuntime
import ServiceClient

/// The calls the commands and the load test make, with every non-success answer
/// turned into a ``ClientFailure``.
extension ServiceClients {
    /// `POST /customers`.
    public func createCustomer(
        name: String, email: String, creditLimit: Int64?, requestId: String? = nil, idempotencyKey: String? = nil
    ) async throws -> Components.Schemas.Customer {
        let output = try await call(.customerService) {
            try await customers.createCustomer(
                headers: .init(xRequestID: requestId, idempotencyKey: idempotencyKey),
                body: .json(.init(name: name, email: email, creditLimit: creditLimit))
            )
        }
        switch output {
        case .created(let created): return try created.body.json
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `POST /orders`.
    public func createOrder(
        customerId: String, amount: Int64, requestId: String? = nil, idempotencyKey: String? = nil
    ) async throws -> Components.Schemas.Order {
        let output = try await call(.orderService) {
            try await orders.createOrder(
                headers: .init(xRequestID: requestId, idempotencyKey: idempotencyKey),
                body: .json(.init(customerId: customerId, amount: amount))
            )
        }
        switch output {
        case .created(let created): return try created.body.json
        default: throw try Service.orderService.failure(answering: output)
        }
    }

    /// `GET /customers/{id}`.
    public func customer(id: String) async throws -> Components.Schemas.Customer {
        let output = try await call(.customerService, { try await customers.getCustomer(path: .init(id: id)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `GET /orders/{id}`.
    public func order(id: String) async throws -> Components.Schemas.Order {
        let output = try await call(.orderService, { try await orders.getOrder(path: .init(id: id)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.orderService.failure(answering: output)
        }
    }

    /// `GET /customers?limit=&after=`.
    public func customers(limit: Int?, after: String?) async throws -> Components.Schemas.CustomerPage {
        let output = try await call(.customerService, { try await customers.listCustomers(query: .init(limit: limit, after: after)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `GET /orders?customerId=&limit=&after=`.
    public func orders(customerId: String?, limit: Int?, after: String?) async throws -> Components.Schemas.OrderPage {
        let output = try await call(.orderService, { try await orders.listOrders(query: .init(customerId: customerId, limit: limit, after: after)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.orderService.failure(answering: output)
        }
    }

    /// Every page of `GET /customers/{id}/orders` (CustomerService's replica of the customer's orders).
    public func customerOrders(customerId: String) async throws -> [Components.Schemas.ReplicatedOrder] {
        var orders: [Components.Schemas.ReplicatedOrder] = []
        var after: String?
        repeat {
            let page = try await customerOrders(customerId: customerId, limit: 100, after: after)
            orders += page.items
            after = page.next
        } while after != nil
        return orders
    }

    /// One page of `GET /customers/{id}/orders`.
    public func customerOrders(customerId: String, limit: Int?, after: String?) async throws -> Components.Schemas.ReplicatedOrderPage {
        let output = try await call(.customerService) {
            try await customers.listCustomerOrders(path: .init(id: customerId), query: .init(limit: limit, after: after))
        }
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `GET /replica/customers/{id}` at OrderService; nil while it has not arrived, and once its deletion has.
    public func replicaCustomer(id: String) async throws -> Components.Schemas.ReplicatedCustomer? {
        if case .present(let customer) = try await replicaCustomerRead(id: id) { return customer }
        return nil
    }

    /// `GET /replica/customers/{id}` at OrderService: the customer, its tombstone (410), or nothing yet (404).
    public func replicaCustomerRead(id: String) async throws -> ReplicaRead<Components.Schemas.ReplicatedCustomer> {
        switch try await call(.orderService, { try await orders.getReplicaCustomer(path: .init(id: id)) }) {
        case .ok(let ok): return .present(try ok.body.json)
        case .gone(let gone):
            let tombstone = try gone.body.applicationProblemJson.value2
            return .deleted(version: tombstone.version, deletedAt: tombstone.deletedAt, replicatedAt: tombstone.replicatedAt)
        case .notFound: return .absent
        case let output: throw try Service.orderService.failure(answering: output)
        }
    }

    /// `GET /replica/orders/{id}` at CustomerService; nil while it has not arrived.
    public func replicaOrder(id: String) async throws -> Components.Schemas.ReplicatedOrder? {
        let output = try await call(.customerService, { try await customers.getReplicaOrder(path: .init(id: id)) })
        switch output {
        case .ok(let ok): return try ok.body.json
        case .notFound: return nil
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `GET /health/ready` of one service (200 and 503 both carry the health).
    public func readiness(of service: Service) async throws -> Components.Schemas.Health {
        let output = try await call(service, { try await client(service).getReadiness() })
        switch output {
        case .ok(let ok): return try ok.body.json
        case .serviceUnavailable(let unavailable): return try unavailable.body.json
        default: throw try service.failure(answering: output)
        }
    }

    /// `GET /replication/status` of one service.
    public func replicationStatus(of service: Service) async throws -> Components.Schemas.ReplicationStatus {
        let output = try await callOperation(service) { try await $0.getReplicationStatus() }
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try service.failure(answering: output)
        }
    }

    /// One of the two services.
    public enum Service: Sendable {
        /// CustomerService.
        case customerService
        /// OrderService.
        case orderService

        /// Its name for messages.
        public var displayName: String { self == .customerService ? "CustomerService" : "OrderService" }
    }

    /// The generated client of `service`.
    public func client(_ service: Service) -> Client {
        service == .customerService ? customers : orders
    }

    /// The generated client of `service`'s admin listener (the operations, with the token).
    public func operations(_ service: Service) -> Client {
        service == .customerService ? customerOperations : orderOperations
    }

    /// The base URL of `service`.
    public func url(_ service: Service) -> URL {
        service == .customerService ? customerServiceURL : orderServiceURL
    }

    /// The base URL of `service`'s admin listener.
    public func adminURL(_ service: Service) -> URL {
        service == .customerService ? customerServiceAdminURL : orderServiceAdminURL
    }

    /// Runs `body`, turning transport failures into "cannot reach ..." failures.
    func call<Output>(_ service: Service, _ body: () async throws -> Output) async throws -> Output {
        do {
            return try await body()
        } catch {
            throw ClientFailure.unreachable(error, service: service.displayName, url: url(service))
        }
    }

    /// ``call(_:_:)`` for an operation on `service`'s admin listener; without a token, says so
    /// before calling.
    func callOperation<Output>(_ service: Service, _ body: (Client) async throws -> Output) async throws -> Output {
        guard hasToken else {
            throw ClientFailure(
                status: nil, type: nil,
                message: "the operations need \(service.displayName)'s operations token: set OPERATIONS_TOKEN or pass --token-file")
        }
        do {
            return try await body(operations(service))
        } catch {
            throw ClientFailure.unreachable(error, service: "\(service.displayName)'s admin listener", url: adminURL(service))
        }
    }
}

extension ServiceClients {
    /// `POST /replication/outbox/retry-parked` of one service; how many rows went back to its relay.
    public func retryParkedOutboxRows(of service: Service) async throws -> Int {
        let output = try await callOperation(service) { try await $0.retryParkedOutboxRows() }
        switch output {
        case .ok(let ok): return try ok.body.json.retried
        default: throw try service.failure(answering: output)
        }
    }
}

/// What one read of a replica found.
public enum ReplicaRead<Record: Sendable>: Sendable {
    /// The record.
    case present(Record)
    /// Its tombstone: the deletion at `version`, committed at the source at `deletedAt`, was
    /// written to the replica at `replicatedAt`.
    case deleted(version: Int64, deletedAt: Date, replicatedAt: Date)
    /// Nothing (yet).
    case absent
}
