import Postgres
import Testing

@testable import Replication

/// What the consumer does about each kind of database failure: stop consuming, retry in
/// place, or count attempts towards a dead letter.
@Suite("Apply failure")
struct ApplyFailureTests {
    static func server(_ sqlState: String) -> PostgresError {
        PostgresError(code: .server, message: "test", sqlState: sqlState)
    }

    @Test("an unreachable database stops consuming: connection failures, class 08, shutdowns, too many connections")
    func unavailable() {
        for error in [
            PostgresError(code: .connectionFailed, message: "refused"), PostgresError(code: .connectionLost, message: "lost"),
            PostgresError(code: .poolTimeout, message: "no connection"), Self.server("08006"), Self.server("57P01"),
            Self.server("57P03"), Self.server("53300"),
        ] {
            #expect(ApplyFailure(error) == .unavailable, "\(error)")
            #expect(ApplyFailure(error).pausesConsumption)
        }
    }

    @Test("a revoked privilege, a missing table or a program limit is configuration, not poison: it stops consuming")
    func configuration() {
        for state in ["42501", "42P01", "42703", "54000"] {
            #expect(ApplyFailure(Self.server(state)) == .configuration, "\(state)")
            #expect(ApplyFailure(Self.server(state)).pausesConsumption)
        }
    }

    @Test("a read-only session (a standby) stops consuming until a writable host answers")
    func readOnly() {
        #expect(ApplyFailure(Self.server("25006")) == .readOnly)
        #expect(ApplyFailure(Self.server("25006")).pausesConsumption)
    }

    @Test("deadlocks, serialization failures, lock and statement timeouts are contention, retried in place")
    func contention() {
        for state in ["40P01", "40001", "55P03", "57014", "53100", "57P05"] {
            #expect(ApplyFailure(Self.server(state)) == .contention, "\(state)")
            #expect(!ApplyFailure(Self.server(state)).pausesConsumption)
        }
    }

    @Test("a constraint, a bad value or a failure of the handler counts towards a dead letter")
    func failure() {
        struct HandlerFailure: Error {}
        #expect(ApplyFailure(Self.server("23505")) == .failure)
        #expect(ApplyFailure(Self.server("22P02")) == .failure)
        #expect(ApplyFailure(HandlerFailure()) == .failure)
        #expect(!ApplyFailure(HandlerFailure()).pausesConsumption)
    }
}
