import Foundation
import ServiceClient

/// The calls that change records (docs/design.md#versions-and-tombstones), with every non-success answer turned into a
/// ``ClientFailure``: 404, 409 (an email in use, an order already cancelled), 412 (`If-Match`
/// names a version the record has moved on from), 400 and 422.
extension ServiceClients {
    /// The optional headers of a change.
    public struct ChangeHeaders: Sendable {
        /// `If-Match`: change the record only if it is at this version (its ETag); 412 otherwise.
        public var ifMatch: Int64?
        /// `X-Request-ID` (the service generates one when absent).
        public var requestId: String?
        /// `Idempotency-Key`: the same key with the same request answers the first response again.
        public var idempotencyKey: String?

        /// Headers with these values.
        public init(ifMatch: Int64? = nil, requestId: String? = nil, idempotencyKey: String? = nil) {
            self.ifMatch = ifMatch
            self.requestId = requestId
            self.idempotencyKey = idempotencyKey
        }

        /// `ifMatch` as the header wants it: `"<version>"`.
        var entityTag: String? { ifMatch.map { "\"\($0)\"" } }
    }

    /// `PATCH /customers/{id}`: a JSON merge patch of the fields that are not nil (at least one);
    /// returns the customer after the change.
    public func updateCustomer(
        id: String, name: String? = nil, email: String? = nil, creditLimit: Int64? = nil, headers: ChangeHeaders = .init()
    ) async throws -> Components.Schemas.Customer {
        let output = try await call(.customerService) {
            try await customers.updateCustomer(
                path: .init(id: id),
                headers: .init(xRequestID: headers.requestId, idempotencyKey: headers.idempotencyKey, ifMatch: headers.entityTag),
                body: .applicationMergePatchJson(.init(name: name, email: email, creditLimit: creditLimit))
            )
        }
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `DELETE /customers/{id}`.
    public func deleteCustomer(id: String, headers: ChangeHeaders = .init()) async throws {
        let output = try await call(.customerService) {
            try await customers.deleteCustomer(
                path: .init(id: id),
                headers: .init(xRequestID: headers.requestId, idempotencyKey: headers.idempotencyKey, ifMatch: headers.entityTag)
            )
        }
        switch output {
        case .noContent: return
        default: throw try Service.customerService.failure(answering: output)
        }
    }

    /// `POST /orders/{id}/cancel`: returns the order, now cancelled.
    public func cancelOrder(id: String, headers: ChangeHeaders = .init()) async throws -> Components.Schemas.Order {
        let output = try await call(.orderService) {
            try await orders.cancelOrder(
                path: .init(id: id),
                headers: .init(xRequestID: headers.requestId, idempotencyKey: headers.idempotencyKey, ifMatch: headers.entityTag)
            )
        }
        switch output {
        case .ok(let ok): return try ok.body.json
        default: throw try Service.orderService.failure(answering: output)
        }
    }
}
