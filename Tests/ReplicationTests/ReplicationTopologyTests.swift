import AMQP
import Contract
import Foundation
import Postgres
import Replication
import Testing

/// What publishing and subscribing services declare on the broker.
@Suite("Replication topology")
struct ReplicationTopologyTests {
    let names = ReplicationNames(prefix: "t-topology.")

    @Test("a subscriber declares a quorum queue that dead-letters to replication.dlx with <queue>.dead and a delivery limit")
    func subscriberQueue() throws {
        let topology = ReplicationTopology.subscriber(exchange: names.customerEvents, queue: names.customerEventsQueue, names: names)
        let queue = try #require(topology.queue(named: "t-topology.order-service.customer-events"))
        #expect(queue.durable)
        #expect(queue.arguments["x-queue-type"] == .string("quorum"))
        #expect(queue.arguments["x-dead-letter-exchange"] == .string("t-topology.replication.dlx"))
        #expect(queue.arguments["x-dead-letter-routing-key"] == .string("t-topology.order-service.customer-events.dead"))
        #expect(queue.arguments["x-delivery-limit"] == .int(Int64(ReplicationTopology.defaultDeliveryLimit)))
        #expect(ReplicationTopology.defaultDeliveryLimit > 1)
    }

    @Test("a subscriber declares the dead-letter queue, bound to the dead-letter exchange by its own name")
    func subscriberDeadLetterQueue() throws {
        let topology = ReplicationTopology.subscriber(exchange: names.orderEvents, queue: names.orderEventsQueue, names: names)
        let deadQueue = "t-topology.customer-service.order-events.dead"
        let queue = try #require(topology.queue(named: deadQueue))
        #expect(queue.durable)
        #expect(queue.arguments["x-queue-type"] == .string("quorum"))
        // Dead letters must not dead-letter again.
        #expect(queue.arguments["x-dead-letter-exchange"] == nil)
        #expect(topology.queues.count == 2)

        #expect(
            Set(topology.exchanges) == [
                .init(name: "t-topology.order.events", kind: .fanout),
                .init(name: "t-topology.replication.dlx", kind: .direct),
            ])
        let transient = topology.exchanges.filter { !$0.durable }
        #expect(transient.isEmpty)
        #expect(
            Set(topology.bindings) == [
                .init(queue: "t-topology.customer-service.order-events", exchange: "t-topology.order.events"),
                .init(queue: deadQueue, exchange: "t-topology.replication.dlx", routingKey: deadQueue),
            ])
    }

    @Test("a publisher declares its fanout exchange and the dead-letter exchange, no queue")
    func publisher() {
        let topology = ReplicationTopology.publisher(exchange: names.customerEvents, names: names)
        #expect(
            Set(topology.exchanges) == [
                .init(name: "t-topology.customer.events", kind: .fanout),
                .init(name: "t-topology.replication.dlx", kind: .direct),
            ])
        #expect(topology.queues.isEmpty)
        #expect(topology.bindings.isEmpty)
    }

    @Test("the consumer's configuration dead-letters where the topology says")
    func consumerConfiguration() throws {
        struct Never: ReplicaEventHandler {
            func prepare(_ event: IncomingEvent) throws(PoisonMessage) -> CustomerRecord { throw PoisonMessage(.unknownType, "") }
            func apply(_ changes: [PreparedEvent<CustomerRecord>], on connection: Postgres.PostgresConnection) async throws -> Set<UUID> { [] }
        }
        let configuration = ReplicaConsumer<Never>.Configuration(exchange: names.customerEvents, queue: names.customerEventsQueue, names: names)
        #expect(configuration.deadLetterExchange == "t-topology.replication.dlx")
        #expect(configuration.deadLetterRoutingKey == "t-topology.order-service.customer-events.dead")
        let queue = try #require(configuration.topology.queue(named: configuration.queue))
        #expect(queue.arguments["x-dead-letter-routing-key"] == .string(configuration.deadLetterRoutingKey))
    }
}

extension AMQPTopology {
    /// The queue named `name`, if the topology declares one.
    func queue(named name: String) -> Queue? {
        queues.first { $0.name == name }
    }
}
