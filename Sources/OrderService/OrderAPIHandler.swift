import Contract
import Foundation
import Logging
import OrderAPI
import Replication
import ServiceSupport

/// OrderService's HTTP operations (the `order-service` tag of openapi.yaml): checks the
/// request, calls the store, and maps the answer to the contract.
///
/// Errors are thrown as ``Problem``s, or as domain errors that are ``ProblemConvertible``;
/// ``ProblemMiddleware`` renders them.
struct OrderAPIHandler<Store: OrderStore>: APIProtocol {
    let orders: Store
    let logger: Logger

    func createOrder(_ input: Operations.CreateOrder.Input) async throws -> Operations.CreateOrder.Output {
        guard case .json(let body) = input.body else { throw Problem.validation([.init(name: "body", reason: "must be JSON")]) }
        let (customerId, invalidId) = FieldRules.uuid(body.customerId, field: "customerId")
        let invalid = invalidId + FieldRules.amount(body.amount)
        guard let customerId, invalid.isEmpty else { throw Problem.validation(invalid) }
        let order = NewOrder(customerId: customerId, amount: body.amount)

        let requestId = RequestID.current ?? TimeOrderedUUID.make().uuidString.lowercased()
        let idempotency = IdempotentRequest(
            key: input.headers.idempotencyKey,
            operation: "createOrder",
            fingerprint: "\(customerId.lowercased)\u{1f}\(order.amount)"
        )
        let (record, created) = try await orders.create(order, requestId: requestId, idempotency: idempotency)
        if created {
            logger.info(
                "order created",
                metadata: ["order.id": "\(record.id.lowercased)", "customer.id": "\(customerId.lowercased)", "request.id": "\(requestId)"]
            )
        }
        return .created(
            .init(
                headers: .init(location: "/orders/\(record.id.lowercased)", eTag: EntityTag.version(record.version), xRequestID: requestId),
                body: .json(.init(record))
            ))
    }

    func cancelOrder(_ input: Operations.CancelOrder.Input) async throws -> Operations.CancelOrder.Output {
        let id = try Parameters.id(input.path.id)
        let ifMatch = try IfMatch.parse(input.headers.ifMatch)
        let requestId = RequestID.current ?? TimeOrderedUUID.make().uuidString.lowercased()
        let idempotency = IdempotentRequest(key: input.headers.idempotencyKey, operation: "cancelOrder", changing: id, ifMatch: ifMatch)
        let (record, changed) = try await orders.cancel(id: id, ifMatch: ifMatch, requestId: requestId, idempotency: idempotency)
        if changed {
            logger.info("order cancelled", metadata: ["order.id": "\(id.lowercased)", "version": "\(record.version)", "request.id": "\(requestId)"])
        }
        return .ok(.init(headers: .init(eTag: EntityTag.version(record.version), xRequestID: requestId), body: .json(.init(record))))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        let id = try Parameters.id(input.path.id)
        guard let order = try await orders.order(id: id) else { throw Problem.notFound("no order \(id.lowercased)") }
        return .ok(.init(headers: .init(eTag: EntityTag.version(order.version)), body: .json(.init(order))))
    }

    func listOrders(_ input: Operations.ListOrders.Input) async throws -> Operations.ListOrders.Output {
        let customerId = try input.query.customerId.map { try Parameters.id($0, name: "customerId") }
        let limit = try Parameters.limit(input.query.limit)
        let page = try await orders.orders(customerId: customerId, after: try Parameters.cursor(input.query.after), limit: limit)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Order.init), next: page.next?.text))))
    }

    func getReplicaCustomer(_ input: Operations.GetReplicaCustomer.Input) async throws -> Operations.GetReplicaCustomer.Output {
        let id = try Parameters.id(input.path.id)
        guard let customer = try await orders.replicaCustomer(id: id) else {
            if let tombstone = try await orders.replicaCustomerTombstone(id: id) { throw Problem.replicaDeleted(tombstone) }
            throw Problem.notFound("customer \(id.lowercased) has not been replicated (yet)")
        }
        return .ok(.init(body: .json(.init(customer))))
    }
}

extension OrderError: ProblemConvertible {
    /// 422 for a customer OrderService does not know, 409 for a change the order's status does not allow.
    var problem: Problem {
        switch self {
        case .unknownCustomer(let customerId):
            Problem(
                code: "unknown-customer", title: "Unknown customer", status: .unprocessableContent,
                detail: "customer \(customerId.lowercased) is not known to OrderService (not created, not replicated yet, or deleted)"
            )
        case .invalidState(let id, let status):
            Problem(
                code: "invalid-state", title: "The order's status does not allow this", status: .conflict,
                detail: "order \(id.lowercased) is \(status)"
            )
        }
    }
}
