import Foundation

/// What the peer's replica holds of one record, as one read found it.
enum ReplicaState: Sendable, Equatable {
    /// The record, at `version`.
    case present(version: Int64, createdAt: Date, replicatedAt: Date)
    /// No such record: it has not arrived yet, or it was deleted.
    case absent
    /// The read failed (the service did not answer, or answered an error).
    case unreadable
}

extension ServiceClients {
    /// Reads record `id`, owned by `source`, from the peer's replica: OrderService's replica
    /// of customers, CustomerService's replica of orders.
    func replicaState(of id: String, ownedBy source: Service) async -> ReplicaState {
        do {
            switch source {
            case .customerService:
                guard let replica = try await replicaCustomer(id: id), replica.value1.id == id else { return .absent }
                return .present(version: replica.value1.version, createdAt: replica.value1.createdAt, replicatedAt: replica.value2.replicatedAt)
            case .orderService:
                guard let replica = try await replicaOrder(id: id), replica.value1.id == id else { return .absent }
                return .present(version: replica.value1.version, createdAt: replica.value1.createdAt, replicatedAt: replica.value2.replicatedAt)
            }
        } catch {
            return .unreadable
        }
    }
}
