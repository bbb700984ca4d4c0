import Contract
import Testing

/// The broker names are part of the contract: other programs bind to them.
@Suite("Replication names")
struct ReplicationNamesTests {
    @Test("without a prefix the names are exactly the contract's")
    func contractNames() {
        let names = ReplicationNames()
        #expect(names.prefix == "")
        #expect(names.customerEvents == "customer.events")
        #expect(names.orderEvents == "order.events")
        #expect(names.customerEventsQueue == "order-service.customer-events")
        #expect(names.orderEventsQueue == "customer-service.order-events")
        #expect(names.deadLetterExchange == "replication.dlx")
        #expect(names.deadLetterQueue(of: names.customerEventsQueue) == "order-service.customer-events.dead")
        #expect(names.deadLetterQueue(of: names.orderEventsQueue) == "customer-service.order-events.dead")
    }

    @Test("a prefix is prepended to every name exactly once")
    func prefixedNames() {
        let names = ReplicationNames(prefix: "t-1234.")
        #expect(names.customerEvents == "t-1234.customer.events")
        #expect(names.orderEvents == "t-1234.order.events")
        #expect(names.customerEventsQueue == "t-1234.order-service.customer-events")
        #expect(names.orderEventsQueue == "t-1234.customer-service.order-events")
        #expect(names.deadLetterExchange == "t-1234.replication.dlx")
        #expect(names.deadLetterQueue(of: names.customerEventsQueue) == "t-1234.order-service.customer-events.dead")
        #expect(names.deadLetterQueue(of: names.orderEventsQueue) == "t-1234.customer-service.order-events.dead")
    }

    @Test("the services' app ids")
    func serviceNames() {
        #expect(ServiceName.customerService.rawValue == "customer-service")
        #expect(ServiceName.orderService.rawValue == "order-service")
    }
}

@Suite("Subscriber queues")
struct SubscriberQueueTests {
    @Test("a subscriber's queue is <prefix><subscriber>.<exchange with - for .>, the names of the contract")
    func queueNames() {
        #expect(ReplicationNames().queue(of: "order-service", for: \.customerEvents) == ReplicationNames().customerEventsQueue)
        #expect(ReplicationNames().queue(of: "customer-service", for: \.orderEvents) == ReplicationNames().orderEventsQueue)
        let prefixed = ReplicationNames(prefix: "t-1.")
        #expect(prefixed.queue(of: "order-service", for: \.customerEvents) == prefixed.customerEventsQueue)
        #expect(prefixed.queue(of: "audit", for: \.customerEvents) == "t-1.audit.customer-events")
    }
}
