import AMQP
import Contract
import Testing

@testable import Replication

/// Who may publish the events a consumer applies (docs/design.md#dead-letters, docs/design.md#trust-boundaries).
@Suite("Accepted publisher")
struct PublisherCheckTests {
    typealias Consumer = ReplicaConsumer<ReplicaTable<CustomerRecord>>

    static func properties(user: String?, headers: AMQPTable = [:]) -> AMQPProperties {
        AMQPProperties(userID: user, headers: headers)
    }

    @Test("the peer's user_id is accepted; another user, or none, is not")
    func peer() {
        #expect(Consumer.isPublished(Self.properties(user: "customer-service"), by: "customer-service", ownUser: "order-service"))
        #expect(!Consumer.isPublished(Self.properties(user: "mallory"), by: "customer-service", ownUser: "order-service"))
        #expect(!Consumer.isPublished(Self.properties(user: nil), by: "customer-service", ownUser: "order-service"))
    }

    @Test("a replay from the dead letters is accepted only under the service's own user, naming the peer as its original publisher")
    func replay() {
        let replayed: AMQPTable = ["x-original-user-id": "customer-service", "x-replayed-from": "order-service.customer-events.dead"]
        #expect(Consumer.isPublished(Self.properties(user: "order-service", headers: replayed), by: "customer-service", ownUser: "order-service"))
        #expect(
            !Consumer.isPublished(Self.properties(user: "mallory", headers: replayed), by: "customer-service", ownUser: "order-service"),
            "not from another user")
        let forged: AMQPTable = ["x-original-user-id": "mallory", "x-replayed-from": "order-service.customer-events.dead"]
        #expect(
            !Consumer.isPublished(Self.properties(user: "order-service", headers: forged), by: "customer-service", ownUser: "order-service"),
            "not of another original publisher")
    }

    @Test("a repair's overwrite is honoured only from the peer's own user_id: not from another user, a replay, or when no publisher is accepted")
    func repairOverwrite() {
        let repair: AMQPTable = [IncomingEvent.repairHeader: .string(IncomingEvent.overwrite)]
        #expect(Consumer.isRepair(Self.properties(user: "customer-service", headers: repair), by: "customer-service"))
        #expect(!Consumer.isRepair(Self.properties(user: "customer-service"), by: "customer-service"), "not without the header")
        #expect(!Consumer.isRepair(Self.properties(user: "mallory", headers: repair), by: "customer-service"))
        #expect(!Consumer.isRepair(Self.properties(user: nil, headers: repair), by: "customer-service"))
        var replayed = repair
        replayed["x-original-user-id"] = "customer-service"
        replayed["x-replayed-from"] = "order-service.customer-events.dead"
        #expect(!Consumer.isRepair(Self.properties(user: "order-service", headers: replayed), by: "customer-service"), "not a replay")
        #expect(!Consumer.isRepair(Self.properties(user: "customer-service", headers: repair), by: nil), "not without an accepted publisher")
    }

    @Test("a delivery's epoch is its x-epoch header, as text or a number; 1 without one; anything else makes it poison")
    func epochHeader() throws {
        #expect(try Consumer.epoch(of: Self.properties(user: "customer-service")) == 1)
        #expect(try Consumer.epoch(of: Self.properties(user: "customer-service", headers: [ReplicationSchema.epochHeader: "3"])) == 3)
        #expect(try Consumer.epoch(of: Self.properties(user: "customer-service", headers: [ReplicationSchema.epochHeader: .int(4)])) == 4)
        for invalid: AMQPFieldValue in ["0", "-2", "two", .bool(true)] {
            #expect(throws: PoisonMessage.self) {
                try Consumer.epoch(of: Self.properties(user: "customer-service", headers: [ReplicationSchema.epochHeader: invalid]))
            }
        }
    }
}
