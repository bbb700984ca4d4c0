import Contract
import CustomerAPI
import Foundation
import Logging
import Replication
import ServiceSupport

/// CustomerService's HTTP operations (the `customer-service` tag of openapi.yaml): checks
/// the request, calls the store, and maps the answer to the contract.
///
/// Errors are thrown as ``Problem``s, or as domain errors that are ``ProblemConvertible``;
/// ``ProblemMiddleware`` renders them.
struct CustomerAPIHandler<Store: CustomerStore>: APIProtocol {
    let customers: Store
    let logger: Logger

    func createCustomer(_ input: Operations.CreateCustomer.Input) async throws -> Operations.CreateCustomer.Output {
        guard case .json(let body) = input.body else { throw Problem.validation([.init(name: "body", reason: "must be JSON")]) }
        let customer = NewCustomer(
            name: body.name.trimmingCharacters(in: .whitespacesAndNewlines),
            email: body.email.trimmingCharacters(in: .whitespacesAndNewlines),
            creditLimit: body.creditLimit ?? 0
        )
        let invalid = FieldRules.name(customer.name) + FieldRules.email(customer.email) + FieldRules.creditLimit(customer.creditLimit)
        guard invalid.isEmpty else { throw Problem.validation(invalid) }

        let requestId = RequestID.current ?? TimeOrderedUUID.make().uuidString.lowercased()
        let idempotency = IdempotentRequest(
            key: input.headers.idempotencyKey,
            operation: "createCustomer",
            fingerprint: "\(customer.name)\u{1f}\(customer.email)\u{1f}\(customer.creditLimit)"
        )
        let (record, created) = try await customers.create(customer, requestId: requestId, idempotency: idempotency)
        if created {
            logger.info("customer created", metadata: ["customer.id": "\(record.id.lowercased)", "request.id": "\(requestId)"])
        }
        return .created(
            .init(
                headers: .init(location: "/customers/\(record.id.lowercased)", eTag: EntityTag.version(record.version), xRequestID: requestId),
                body: .json(.init(record))
            ))
    }

    func updateCustomer(_ input: Operations.UpdateCustomer.Input) async throws -> Operations.UpdateCustomer.Output {
        let id = try Parameters.id(input.path.id)
        let body: Components.Schemas.CustomerPatch =
            switch input.body {
            case .applicationMergePatchJson(let body), .json(let body): body
            }
        let patch = CustomerPatch(
            name: body.name?.trimmingCharacters(in: .whitespacesAndNewlines),
            email: body.email?.trimmingCharacters(in: .whitespacesAndNewlines),
            creditLimit: body.creditLimit
        )
        guard patch.invalid.isEmpty else { throw Problem.validation(patch.invalid) }
        let ifMatch = try IfMatch.parse(input.headers.ifMatch)

        let requestId = RequestID.current ?? TimeOrderedUUID.make().uuidString.lowercased()
        let idempotency = IdempotentRequest(
            key: input.headers.idempotencyKey, operation: "updateCustomer", changing: id, ifMatch: ifMatch, body: patch.fingerprint)
        let (record, changed) = try await customers.update(id: id, patch, ifMatch: ifMatch, requestId: requestId, idempotency: idempotency)
        if changed {
            logger.info(
                "customer updated", metadata: ["customer.id": "\(id.lowercased)", "version": "\(record.version)", "request.id": "\(requestId)"])
        }
        return .ok(.init(headers: .init(eTag: EntityTag.version(record.version), xRequestID: requestId), body: .json(.init(record))))
    }

    func deleteCustomer(_ input: Operations.DeleteCustomer.Input) async throws -> Operations.DeleteCustomer.Output {
        let id = try Parameters.id(input.path.id)
        let ifMatch = try IfMatch.parse(input.headers.ifMatch)
        let requestId = RequestID.current ?? TimeOrderedUUID.make().uuidString.lowercased()
        let idempotency = IdempotentRequest(key: input.headers.idempotencyKey, operation: "deleteCustomer", changing: id, ifMatch: ifMatch)
        let tombstone = try await customers.delete(id: id, ifMatch: ifMatch, requestId: requestId, idempotency: idempotency)
        logger.info(
            "customer deleted", metadata: ["customer.id": "\(id.lowercased)", "version": "\(tombstone.version)", "request.id": "\(requestId)"])
        return .noContent(.init(headers: .init(xRequestID: requestId)))
    }

    func getCustomer(_ input: Operations.GetCustomer.Input) async throws -> Operations.GetCustomer.Output {
        let id = try Parameters.id(input.path.id)
        guard let customer = try await customers.customer(id: id) else { throw Problem.notFound("no customer \(id.lowercased)") }
        return .ok(.init(headers: .init(eTag: EntityTag.version(customer.version)), body: .json(.init(customer))))
    }

    func listCustomers(_ input: Operations.ListCustomers.Input) async throws -> Operations.ListCustomers.Output {
        let limit = try Parameters.limit(input.query.limit)
        let page = try await customers.customers(after: try Parameters.cursor(input.query.after), limit: limit)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Customer.init), next: page.next?.text))))
    }

    func listCustomerOrders(_ input: Operations.ListCustomerOrders.Input) async throws -> Operations.ListCustomerOrders.Output {
        let id = try Parameters.id(input.path.id)
        guard try await customers.customer(id: id) != nil else { throw Problem.notFound("no customer \(id.lowercased)") }
        let limit = try Parameters.limit(input.query.limit)
        let page = try await customers.replicaOrders(customerId: id, after: try Parameters.cursor(input.query.after), limit: limit)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.ReplicatedOrder.init), next: page.next?.text))))
    }

    func getReplicaOrder(_ input: Operations.GetReplicaOrder.Input) async throws -> Operations.GetReplicaOrder.Output {
        let id = try Parameters.id(input.path.id)
        guard let order = try await customers.replicaOrder(id: id) else {
            throw Problem.notFound("order \(id.lowercased) has not been replicated (yet)")
        }
        return .ok(.init(body: .json(.init(order))))
    }
}

extension CustomerError: ProblemConvertible {
    /// 409 for an email in use.
    var problem: Problem {
        switch self {
        case .emailTaken(let email):
            Problem(code: "email-taken", title: "The email is already used", status: .conflict, detail: "a customer with email \(email) exists")
        }
    }
}
