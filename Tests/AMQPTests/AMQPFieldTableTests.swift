import Foundation
import Testing

@testable import AMQP

@Suite struct AMQPFieldTableTests {
    static let sample: AMQPTable = [
        "string": "héllo",
        "empty": "",
        "int": .int(-42),
        "big": .int(Int64.max),
        "bool": true,
        "false": false,
        "double": 3.25,
        "timestamp": .timestamp(Date(timeIntervalSince1970: 1_790_000_000)),
        "table": .table(["nested": .table(["deep": .int(1)]), "list": .array(["a", .int(2)])]),
        "array": .array([.string("x"), .bool(false), .array([]), .table([:])]),
        "bytes": .bytes([0, 255, 1]),
        "decimal": .decimal(scale: 2, value: 12345),
        "void": .void,
    ]

    @Test func tableRoundTripsThroughTheWireFormat() throws {
        let bytes = try AMQPFieldTableCodec.encode(Self.sample)
        #expect(bytes.count > 100)
        let decoded = try AMQPFieldTableCodec.decode(bytes)
        #expect(decoded == Self.sample)
    }

    @Test("a header nested deeper than the bound decodes as void, not as recursion without end")
    func deepNestingIsBounded() throws {
        var deep: AMQPFieldValue = .string("bottom")
        for level in 0..<200 { deep = level.isMultiple(of: 2) ? .table(["t": deep]) : .array([deep]) }
        let decoded = try AMQPFieldTableCodec.decode(try AMQPFieldTableCodec.encode(["deep": deep]))
        var value = try #require(decoded["deep"])
        var levels = 0
        while true {
            switch value {
            case .table(let table): value = try #require(table["t"])
            case .array(let array): value = try #require(array.first)
            default:
                #expect(value == .void)
                #expect(levels == AMQPFieldValue.maximumNesting)
                return
            }
            levels += 1
        }
    }

    @Test func emptyTableRoundTrips() throws {
        let decoded = try AMQPFieldTableCodec.decode(try AMQPFieldTableCodec.encode([:]))
        #expect(decoded.isEmpty)
    }

    @Test func timestampsLoseTheirFractionOnTheWire() throws {
        let decoded = try AMQPFieldTableCodec.decode(try AMQPFieldTableCodec.encode(["t": .timestamp(Date(timeIntervalSince1970: 100.75))]))
        #expect(decoded["t"] == .timestamp(Date(timeIntervalSince1970: 100)))
    }

    @Test func quorumQueueArguments() {
        let queue = AMQPTopology.Queue.quorum(name: "q", deadLetterExchange: "dlx", deadLetterRoutingKey: "q.dead", deliveryLimit: 5)
        #expect(queue.durable)
        #expect(
            queue.arguments == [
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "dlx",
                "x-dead-letter-routing-key": "q.dead",
                "x-delivery-limit": 5,
            ])
    }
}
