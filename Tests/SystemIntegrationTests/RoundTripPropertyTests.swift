import Foundation
import TestSupport
import Testing

/// What is stored is what is returned is what is replicated (docs/design.md#bounded-and-guarded): random valid Unicode
/// (astral planes, combining marks, right-to-left text, emoji, quotes and backslashes) goes
/// through create → GET → event → OrderService's replica and comes back byte for byte.
@Suite("Unicode round trip (property)")
struct RoundTripPropertyTests {
    /// A small deterministic generator (SplitMix64), so a failure names the seed that reproduces it.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Ranges of scalars a name may hold: none is a control character.
    static let pools: [ClosedRange<UInt32>] = [
        0x20...0x7E,  // ASCII, with quotes and backslash
        0xA0...0xFF,  // Latin-1 letters and signs, no-break space
        0x0300...0x036F,  // combining marks
        0x05D0...0x05EA,  // Hebrew (right to left)
        0x0627...0x064A,  // Arabic (right to left)
        0x200D...0x200F,  // zero-width joiner, LRM, RLM
        0x4E00...0x4FFF,  // CJK
        0x1F600...0x1F64F,  // emoji (astral plane)
        0x20000...0x2A6DF,  // CJK extension B (astral plane)
        0xFE0F...0xFE0F,  // variation selector
    ]

    static func scalar(_ random: inout SplitMix) -> Unicode.Scalar {
        let pool = pools[Int.random(in: 0..<pools.count, using: &random)]
        return Unicode.Scalar(UInt32.random(in: pool, using: &random))!
    }

    /// A valid name: 1...200 scalars, not blank, starting with a letter so trimming keeps it apart from blanks.
    static func name(_ random: inout SplitMix) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append("N")
        for _ in 0..<Int.random(in: 0...199, using: &random) { scalars.append(scalar(&random)) }
        return String(scalars)
    }

    @Test("100 random names and emails come back from GET and from the replica byte for byte")
    func randomUnicodeRoundTrips() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix(state: seed)
        try await withSystem { system in
            var created: [(id: String, name: String, email: String)] = []
            for index in 0..<100 {
                let name = Self.name(&random)
                // Local parts may be Unicode too (no spaces, no control characters).
                let local = String(String.UnicodeScalarView((0..<8).map { _ in Self.scalar(&random) })).filter { !$0.isWhitespace && $0 != "@" }
                let email = "u\(index)-\(local)@example.org"
                let customer = try await system.clients.createCustomer(name: name, email: email, creditLimit: Int64(index))
                let expectedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(Array(customer.name.utf8) == Array(expectedName.utf8), "seed \(seed): the created name is the (trimmed) name sent")
                #expect(Array(customer.email.utf8) == Array(email.utf8), "seed \(seed): the email is kept as sent")
                created.append((customer.id, customer.name, customer.email))
            }
            for record in created {
                let fetched = try await system.clients.customer(id: record.id)
                #expect(Array(fetched.name.utf8) == Array(record.name.utf8), "seed \(seed): GET returns what was stored")
                #expect(Array(fetched.email.utf8) == Array(record.email.utf8), "seed \(seed)")
            }
            let arrived = try await eventually {
                for record in created where try await system.clients.replicaCustomer(id: record.id) == nil { return false }
                return true
            }
            try #require(arrived, "seed \(seed): not every customer replicated")
            for record in created {
                let replica = try #require(try await system.clients.replicaCustomer(id: record.id))
                #expect(Array(replica.value1.name.utf8) == Array(record.name.utf8), "seed \(seed): the replica holds what the source returns")
                #expect(Array(replica.value1.email.utf8) == Array(record.email.utf8), "seed \(seed)")
            }
            let deadLettered = try await system.clients.replicationStatus(of: .orderService).consumer.deadLettered
            #expect(deadLettered == 0, "seed \(seed): a valid record was dead-lettered")
        }
    }
}
