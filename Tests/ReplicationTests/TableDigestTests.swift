import Contract
import Foundation
import Postgres
import Testing

@testable import Replication

/// The replica digest: the wrapping 64-bit sum of the first 8 bytes of `md5(id::text)`,
/// computed in Swift by a client and in SQL by a service, which must agree.
@Suite("Table digest")
struct TableDigestTests {
    @Test(
        "MD5's first 8 bytes match RFC 1321's test suite",
        arguments: [
            ("", 0xd41d_8cd9_8f00_b204 as UInt64),
            ("a", 0x0cc1_75b9_c0f1_b6a8),
            ("abc", 0x9001_5098_3cd2_4fb0),
            ("message digest", 0xf96b_697d_7cb7_938d),
            ("abcdefghijklmnopqrstuvwxyz", 0xc3fc_d3d7_6192_e400),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 0xd174_ab98_d277_d9f5),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", 0x57ed_f4a2_2be3_c955),
        ])
    func md5Vectors(text: String, prefix: UInt64) {
        #expect(MD5.prefix64(of: Array(text.utf8)) == prefix)
    }

    @Test("an empty set has count 0 and digest zero")
    func empty() {
        let digest = TableDigest(ids: [UUID]())
        #expect(digest == TableDigest(count: 0, digest: "0000000000000000"))
    }

    @Test("the digest does not depend on order, and differs for different sets")
    func orderIndependent() {
        let ids = (0..<100).map { _ in UUID() }
        let digest = TableDigest(ids: ids)
        #expect(digest.count == 100)
        #expect(digest.digest.count == 16)
        let notLowerHex = digest.digest.filter { !$0.isHexDigit || $0.isUppercase }
        #expect(notLowerHex.isEmpty)
        #expect(TableDigest(ids: ids.shuffled()) == digest)
        #expect(TableDigest(ids: ids.dropLast()) != digest)
        // Case does not matter: the id is digested in its lowercase canonical form.
        let reparsed = ids.map { UUID(uuidString: $0.uuidString.uppercased())! }
        #expect(TableDigest(ids: reparsed) == digest)
    }

    @Test(
        "a decimal sum is reduced modulo 2^64, negative sums wrapping around",
        arguments: [
            ("0", "0000000000000000"),
            ("255", "00000000000000ff"),
            ("-1", "ffffffffffffffff"),
            ("-9223372036854775808", "8000000000000000"),
            ("18446744073709551616", "0000000000000000"),
            ("18446744073709551617", "0000000000000001"),
            ("-18446744073709551617", "ffffffffffffffff"),
        ])
    func wrapping(decimal: String, hex: String) {
        #expect(TableDigest.hex(wrapping: decimal) == hex)
    }
}
