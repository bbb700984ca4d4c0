import Postgres

/// What the consumer does when applying a batch failed, decided by the error alone.
///
/// A value with no I/O, so that each SQLSTATE's treatment has a unit test:
/// - ``unavailable``: the database cannot be reached (a connection failure, class 08, a shutdown,
///   too many connections, the database dropped). Every event would fail the same way, and holding deliveries through
///   an outage only feeds the broker's delivery limit and `consumer_timeout`: stop consuming.
/// - ``configuration``: the database refuses the consumer's statements because of how it is set
///   up, not because of the event: class 42 (`42501` a revoked privilege, `42P01` a table that is
///   missing) and `54000` (a program limit). Not poison: stop consuming, log an error, retry later.
/// - ``readOnly``: `25006`, the session reached a standby (during a failover): discard the
///   connection so that the next one picks a writable host, and stop consuming until one answers.
/// - ``contention``: the rest of ``PostgresError/isTransient`` (a deadlock, a serialization
///   failure, a lock or statement timeout, a full disk): the same events succeed later; retried
///   in place, a batch split so that one locked row holds one event.
/// - ``failure``: anything else fails the same way every time: retried one event at a time,
///   the event dead-lettered after ``ReplicaConsumerConfiguration/maxAttempts``.
enum ApplyFailure: Equatable, Sendable {
    case unavailable
    case configuration
    case readOnly
    case contention
    case failure

    /// The treatment of `error`.
    init(_ error: any Error) {
        guard let error = error as? PostgresError else {
            self = .failure
            return
        }
        let state = error.sqlState ?? ""
        if error.isConnectionFailure || state == "53300" || state == "57P04" {
            self = .unavailable
        } else if state.hasPrefix("42") || state == "54000" {
            self = .configuration
        } else if state == "25006" {
            self = .readOnly
        } else if error.isTransient {
            self = .contention
        } else {
            self = .failure
        }
    }

    /// Whether the consumer stops consuming until the database takes the failed events.
    var pausesConsumption: Bool {
        switch self {
        case .unavailable, .configuration, .readOnly: true
        case .contention, .failure: false
        }
    }

    /// The metric's and the log's name of a pause's cause.
    var label: String {
        switch self {
        case .unavailable: "database-unavailable"
        case .configuration: "database-configuration"
        case .readOnly: "database-read-only"
        case .contention: "contention"
        case .failure: "failure"
        }
    }
}
