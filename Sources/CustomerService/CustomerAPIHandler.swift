import Contract
import CustomerAPI
import Foundation
import ServiceSupport

/// CustomerService's HTTP operations (the `customer-service` tag of openapi.yaml).
///
/// Errors are thrown as ``Problem``s; ``ProblemMiddleware`` renders them.
struct CustomerAPIHandler: APIProtocol {
    let runtime: ServiceRuntime
    let customers: CustomerRepository

    func createCustomer(_ input: Operations.CreateCustomer.Input) async throws -> Operations.CreateCustomer.Output {
        guard case .json(let body) = input.body else { throw Problem.validation([.init(name: "body", reason: "must be JSON")]) }
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let email = body.email.trimmingCharacters(in: .whitespacesAndNewlines)
        let creditLimit = body.creditLimit ?? 0
        let invalid = FieldRules.name(name) + FieldRules.email(email) + FieldRules.creditLimit(creditLimit)
        guard invalid.isEmpty else { throw Problem.validation(invalid) }

        let requestId = RequestID.current ?? UUID().uuidString.lowercased()
        let idempotency = IdempotentRequest(
            key: input.headers.idempotencyKey,
            operation: "createCustomer",
            fingerprint: "\(name)\u{1f}\(email)\u{1f}\(creditLimit)"
        )
        let (customer, created) = try await customers.create(
            name: name, email: email, creditLimit: creditLimit, requestId: requestId, idempotency: idempotency
        )
        if created {
            runtime.relay.wake()
            runtime.logger.info(
                "customer created",
                metadata: ["customer.id": "\(customer.id.lowercased)", "request.id": "\(requestId)"]
            )
        }
        return .created(.init(
            headers: .init(location: "/customers/\(customer.id.lowercased)", xRequestID: requestId),
            body: .json(.init(customer))
        ))
    }

    func getCustomer(_ input: Operations.GetCustomer.Input) async throws -> Operations.GetCustomer.Output {
        let id = try Parameters.id(input.path.id)
        guard let customer = try await customers.customer(id: id) else { throw Problem.notFound("no customer \(id.lowercased)") }
        return .ok(.init(body: .json(.init(customer))))
    }

    func listCustomers(_ input: Operations.ListCustomers.Input) async throws -> Operations.ListCustomers.Output {
        let limit = try Parameters.limit(input.query.limit)
        let cursor = try input.query.after.map(PageCursor.init)
        let page = try await customers.customers(after: cursor, limit: limit)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Customer.init), next: page.next?.text))))
    }

    func listCustomerOrders(_ input: Operations.ListCustomerOrders.Input) async throws -> Operations.ListCustomerOrders.Output {
        let id = try Parameters.id(input.path.id)
        guard try await customers.customer(id: id) != nil else { throw Problem.notFound("no customer \(id.lowercased)") }
        let orders = try await customers.replicaOrders(customerId: id)
        return .ok(.init(body: .json(.init(items: orders.map(Components.Schemas.ReplicatedOrder.init)))))
    }

    func getReplicaOrder(_ input: Operations.GetReplicaOrder.Input) async throws -> Operations.GetReplicaOrder.Output {
        let id = try Parameters.id(input.path.id)
        guard let order = try await customers.replicaOrder(id: id) else {
            throw Problem.notFound("order \(id.lowercased) has not been replicated (yet)")
        }
        return .ok(.init(body: .json(.init(order))))
    }
}
