import Contract
import Foundation
import OrderAPI
import ServiceSupport

/// OrderService's HTTP operations (the `order-service` tag of openapi.yaml).
///
/// Errors are thrown as ``Problem``s; ``ProblemMiddleware`` renders them.
struct OrderAPIHandler: APIProtocol {
    let runtime: ServiceRuntime
    let orders: OrderRepository

    func createOrder(_ input: Operations.CreateOrder.Input) async throws -> Operations.CreateOrder.Output {
        guard case .json(let body) = input.body else { throw Problem.validation([.init(name: "body", reason: "must be JSON")]) }
        let (customerId, invalidId) = FieldRules.uuid(body.customerId, field: "customerId")
        let invalid = invalidId + FieldRules.amount(body.amount)
        guard let customerId, invalid.isEmpty else { throw Problem.validation(invalid) }

        let requestId = RequestID.current ?? UUID().uuidString.lowercased()
        let idempotency = IdempotentRequest(
            key: input.headers.idempotencyKey,
            operation: "createOrder",
            fingerprint: "\(customerId.lowercased)\u{1f}\(body.amount)"
        )
        let (order, created) = try await orders.create(
            customerId: customerId, amount: body.amount, requestId: requestId, idempotency: idempotency
        )
        if created {
            runtime.relay.wake()
            runtime.logger.info(
                "order created",
                metadata: ["order.id": "\(order.id.lowercased)", "customer.id": "\(customerId.lowercased)", "request.id": "\(requestId)"]
            )
        }
        return .created(.init(
            headers: .init(location: "/orders/\(order.id.lowercased)", xRequestID: requestId),
            body: .json(.init(order))
        ))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        let id = try Parameters.id(input.path.id)
        guard let order = try await orders.order(id: id) else { throw Problem.notFound("no order \(id.lowercased)") }
        return .ok(.init(body: .json(.init(order))))
    }

    func listOrders(_ input: Operations.ListOrders.Input) async throws -> Operations.ListOrders.Output {
        let customerId = try input.query.customerId.map { try Parameters.id($0, name: "customerId") }
        let limit = try Parameters.limit(input.query.limit)
        let cursor = try input.query.after.map(PageCursor.init)
        let page = try await orders.orders(customerId: customerId, after: cursor, limit: limit)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Order.init), next: page.next?.text))))
    }

    func getReplicaCustomer(_ input: Operations.GetReplicaCustomer.Input) async throws -> Operations.GetReplicaCustomer.Output {
        let id = try Parameters.id(input.path.id)
        guard let customer = try await orders.replicaCustomer(id: id) else {
            throw Problem.notFound("customer \(id.lowercased) has not been replicated (yet)")
        }
        return .ok(.init(body: .json(.init(customer))))
    }
}
