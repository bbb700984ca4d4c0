import AMQP
import TestSupport

/// A fanout exchange bound to the given quorum queues, with unique names.
func fanoutTopology(_ label: String, queues: Int) -> AMQPTopology {
    let exchange = TestEnvironment.uniqueName("\(label).exchange")
    let queueNames = (0..<queues).map { TestEnvironment.uniqueName("\(label).queue\($0)") }
    return AMQPTopology(
        exchanges: [.init(name: exchange, kind: .fanout)],
        queues: queueNames.map { .quorum(name: $0) },
        bindings: queueNames.map { .init(queue: $0, exchange: exchange) }
    )
}
