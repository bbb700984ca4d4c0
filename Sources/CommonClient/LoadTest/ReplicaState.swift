import Foundation

/// What the peer's replica holds of one record, as one read found it.
enum ReplicaState: Sendable, Equatable {
    /// The record, at `version`.
    case present(version: Int64, createdAt: Date, replicatedAt: Date)
    /// Its tombstone: the deletion committed at the source at `deletedAt` and was written to the replica at `replicatedAt`.
    case deleted(deletedAt: Date, replicatedAt: Date)
    /// No such record: it has not arrived yet.
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
                switch try await replicaCustomerRead(id: id) {
                case .present(let replica) where replica.value1.id == id:
                    return .present(version: replica.value1.version, createdAt: replica.value1.createdAt, replicatedAt: replica.value2.replicatedAt)
                case .deleted(_, let deletedAt, let replicatedAt): return .deleted(deletedAt: deletedAt, replicatedAt: replicatedAt)
                case .present, .absent: return .absent
                }
            case .orderService:
                guard let replica = try await replicaOrder(id: id), replica.value1.id == id else { return .absent }
                return .present(version: replica.value1.version, createdAt: replica.value1.createdAt, replicatedAt: replica.value2.replicatedAt)
            }
        } catch {
            return .unreadable
        }
    }
}
