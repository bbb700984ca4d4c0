import Replication
import Testing

/// `Idempotency-Key` without a database: which requests are idempotent (the claims:
/// `IdempotentRequestTests`, an integration test).
@Suite("Idempotent request key")
struct IdempotentRequestKeyTests {
    @Test("no key, no idempotency")
    func noKey() {
        #expect(IdempotentRequest(key: nil, operation: "createCustomer", fingerprint: "x") == nil)
        #expect(IdempotentRequest(key: "k", operation: "createCustomer", fingerprint: "x")?.key == "k")
    }
}
