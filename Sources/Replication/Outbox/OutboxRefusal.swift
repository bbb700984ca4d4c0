/// The broker refused rows of a batch; the relay backs off before it tries them again.
struct OutboxRefusal: Error, CustomStringConvertible {
    var count: Int
    var description: String { "the broker refused \(count) outbox row(s); each is parked after its last attempt" }
}
