import Foundation
import Replication

extension IdempotentRequest {
    /// The request to change record `id` (a PATCH, a DELETE, an action such as cancel), or nil
    /// when there is no key: its fingerprint is the record, the `If-Match` precondition and the
    /// canonical form of the body.
    public init?(key: String?, operation: String, changing id: UUID, ifMatch: IfMatch?, body: String = "") {
        let precondition = ifMatch.map { $0.versions.map { $0.map(String.init).joined(separator: ",") } ?? "*" } ?? "-"
        self.init(key: key, operation: operation, fingerprint: [id.lowercased, precondition, body].joined(separator: "\u{1f}"))
    }
}
