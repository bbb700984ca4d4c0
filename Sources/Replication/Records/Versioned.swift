import Contract

/// A record with a version: 1 when created, one more with each change (docs/design.md#versions-and-tombstones). A replica
/// keeps the highest version of each record, so events may arrive in any order.
public protocol Versioned {
    /// The record's version.
    var version: Int64 { get }
}

extension CustomerRecord: Versioned {}
extension OrderRecord: Versioned {}
