import Hummingbird
import Testing

@testable import ServiceSupport

/// The operations token is compared in full whatever the input: same bytes or not.
@Suite("Operations token")
struct BearerTokenTests {
    @Test("only the exact token matches", arguments: ["", "a", "abcdefghijklmnop0", "abcdefghijklmno", "Abcdefghijklmnop", "abcdefghijklmnoq"])
    func onlyTheToken(given: String) {
        #expect(!BearerTokenMiddleware<BasicRequestContext>.matches(Array(given.utf8), Array("abcdefghijklmnop".utf8)))
    }

    @Test("the token matches itself")
    func itself() {
        #expect(BearerTokenMiddleware<BasicRequestContext>.matches(Array("abcdefghijklmnop".utf8), Array("abcdefghijklmnop".utf8)))
    }
}
