import AMQP
import Contract
import Foundation
import Testing

@testable import Replication

/// Who a dead letter says published its event, through dead-lettering and replays
/// (docs/design.md#dead-letters): only what RabbitMQ validated, whoever wrote the headers.
@Suite("Dead letters' original publisher")
struct DeadLetterTrustTests {
    typealias Consumer = ReplicaConsumer<ReplicaTable<CustomerRecord>>
    static let own = "order-service"
    static let peer = "customer-service"
    static let deadQueue = "order-service.customer-events.dead"

    static func deadLetter(_ properties: AMQPProperties, _ reason: PoisonMessage.Reason = .processingFailed) -> AMQPProperties {
        Consumer.deadLetterProperties(
            properties, ownUser: own, reason: PoisonMessage(reason, "test"), at: Date(), queue: "order-service.customer-events")
    }

    static func replay(_ properties: AMQPProperties, reason: PoisonMessage.Reason = .processingFailed) -> AMQPProperties? {
        DeadLetters.replayProperties(properties, reason: reason.rawValue, ownUser: own, deadLetterQueue: deadQueue)
    }

    static func accepted(_ properties: AMQPProperties) -> Bool {
        Consumer.isPublished(properties, by: peer, ownUser: own)
    }

    @Test("a dead letter goes out under the consumer's own user, naming the delivery's validated user_id")
    func deadLetterNamesTheValidatedUser() {
        let letter = Self.deadLetter(AMQPProperties(userID: Self.peer))
        #expect(letter.userID == Self.own)
        #expect(letter.headers["x-original-user-id"]?.stringValue == Self.peer)
        #expect(letter.headers["x-replayed-from"] == nil)
    }

    @Test("a forged x-original-user-id without user_id is removed when dead-lettered, and its replay is not accepted")
    func forgedHeaderWithoutUserID() throws {
        let forged = AMQPProperties(headers: ["x-original-user-id": .string(Self.peer), "x-replayed-from": .string(Self.deadQueue)])
        #expect(!Self.accepted(forged))
        let letter = Self.deadLetter(forged, .unauthenticatedPublisher)
        #expect(letter.headers["x-original-user-id"] == nil)
        #expect(letter.headers["x-replayed-from"] == nil)
        #expect(Self.replay(letter, reason: .unauthenticatedPublisher) == nil, "an unauthenticated-publisher letter is never replayed")
        let replayed = try #require(Self.replay(letter))
        #expect(!Self.accepted(replayed), "even under another reason, a letter without a publisher replays as nobody's")
    }

    @Test("a forged header on another user's delivery is replaced by that user")
    func forgedHeaderOfAnotherUser() {
        let letter = Self.deadLetter(AMQPProperties(userID: "mallory", headers: ["x-original-user-id": .string(Self.peer)]))
        #expect(letter.headers["x-original-user-id"]?.stringValue == "mallory")
    }

    @Test("a letter not written by the consumer (put into the dead-letter queue directly) replays as its own user_id, never its header")
    func letterFromOutside() throws {
        let outside = AMQPProperties(headers: ["x-original-user-id": .string(Self.peer), "x-dead-letter-reason": .string("processing-failed: x")])
        let replayed = try #require(Self.replay(outside))
        #expect(replayed.headers["x-original-user-id"] == nil)
        #expect(replayed.userID == Self.own)
        #expect(!Self.accepted(replayed))
    }

    @Test("a letter the broker dead-lettered (delivery limit) keeps its validated user_id as the original publisher")
    func brokerDeadLettered() throws {
        let genuine = AMQPProperties(userID: Self.peer, headers: ["x-original-user-id": .string("mallory")])
        let replayed = try #require(Self.replay(genuine, reason: PoisonMessage.Reason(rawValue: "delivery-limit")))
        #expect(replayed.headers["x-original-user-id"]?.stringValue == Self.peer)
        #expect(Self.accepted(replayed))
    }

    @Test("a replay that fails again keeps its original publisher through any number of round trips")
    func roundTrips() throws {
        var properties = AMQPProperties(userID: Self.peer)
        for round in 1...5 {
            #expect(Self.accepted(properties), "round \(round)")
            let letter = Self.deadLetter(properties)
            #expect(letter.headers["x-original-user-id"]?.stringValue == Self.peer, "round \(round)")
            properties = try #require(Self.replay(letter))
            #expect(properties.userID == Self.own)
            #expect(properties.headers["x-replayed-from"]?.stringValue == Self.deadQueue)
        }
        #expect(Self.accepted(properties))
    }
}
