import Contract
import Foundation
import Replication
import Testing

/// A delivered body is classified before any handler sees it: not JSON, a broken
/// envelope, or (when the handler decodes it) data that does not fit its record.
@Suite("Incoming event classification")
struct IncomingEventTests {
    static let eventID = "8d0d8a6e-3c43-4f5e-9d7e-2b0f3b6a1c11"
    static let orderJSON = """
        {"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff",\
        "amount":4200,"status":"created","createdAt":"2026-11-21T18:00:00.123Z"}
        """

    static func envelope(eventId: String = eventID, type: String = "order.created", data: String = orderJSON) -> String {
        """
        {"eventId":"\(eventId)","type":"\(type)","occurredAt":"2026-11-21T18:00:00.456Z","sequence":42,"requestId":"req-9","data":\(data)}
        """
    }

    static func poison(_ body: String) -> PoisonMessage? {
        do {
            _ = try IncomingEvent(body: Array(body.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("a valid envelope is read, data left raw until the handler decodes it")
    func valid() throws {
        let event = try IncomingEvent(body: Array(Self.envelope().utf8))
        #expect(event.envelope.eventId.lowercased == Self.eventID)
        #expect(event.envelope.type == "order.created")
        #expect(event.envelope.sequence == 42)
        #expect(event.envelope.requestId == "req-9")
        #expect(Timestamp.format(event.envelope.occurredAt) == "2026-11-21T18:00:00.456Z")
        let order = try event.decodeData(as: OrderRecord.self)
        #expect(order.amount == 4200)
        #expect(order.customerId.lowercased == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")
    }

    @Test("a body that is not a JSON object is invalid-json", arguments: ["", "hello", "{", "{\"eventId\":", "[1,2,3]", "42", "\"text\"", "null"])
    func notJSON(body: String) throws {
        let poison = try #require(Self.poison(body))
        #expect(poison.reason == .invalidJSON)
        #expect(poison.description.hasPrefix("invalid-json: "))
    }

    @Test("a body over the event size limit is too-large, whatever it holds; one at the limit is parsed")
    func tooLarge() {
        let valid = Self.envelope()
        let padded = String(repeating: " ", count: IncomingEvent.maximumSize + 1 - valid.utf8.count) + valid
        #expect(Self.poison(padded)?.reason == .tooLarge)
        #expect(Self.poison(String(padded.dropFirst())) == nil)
    }

    @Test("a NUL in a replicated name is invalid-data at the consumer, as it is a 400 at the source")
    func nulInData() throws {
        let customer =
            #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","name":"x\u0000y","email":"a@example.com","creditLimit":0,"createdAt":"2026-11-21T18:00:00.123Z"}"#
        let event = try IncomingEvent(body: Array(Self.envelope(type: "customer.created", data: customer).utf8))
        #expect(throws: PoisonMessage.self) {
            try event.record(of: .customerCreated, as: CustomerRecord.self) { $0.validate(prefix: "data.") }
        }
    }

    @Test("bytes that are not UTF-8 are invalid-json")
    func notUTF8() throws {
        #expect(throws: PoisonMessage(.invalidJSON, "the body is not a JSON object")) {
            try IncomingEvent(body: [0xff, 0xfe, 0x7b, 0x7d])
        }
    }

    @Test(
        "a missing or ill-typed envelope field is invalid-envelope naming the field",
        arguments: [
            (#"{"type":"order.created","occurredAt":"2026-11-21T18:00:00.456Z","sequence":1,"data":{}}"#, "eventId"),
            (#"{"eventId":"nope","type":"order.created","occurredAt":"2026-11-21T18:00:00.456Z","sequence":1,"data":{}}"#, "eventId"),
            (#"{"eventId":"\#(eventID)","occurredAt":"2026-11-21T18:00:00.456Z","sequence":1,"data":{}}"#, "type"),
            (#"{"eventId":"\#(eventID)","type":7,"occurredAt":"2026-11-21T18:00:00.456Z","sequence":1,"data":{}}"#, "type"),
            (#"{"eventId":"\#(eventID)","type":"order.created","occurredAt":"last week","sequence":1,"data":{}}"#, "occurredAt"),
            (#"{"eventId":"\#(eventID)","type":"order.created","occurredAt":"2026-11-21T18:00:00.456Z","sequence":"1","data":{}}"#, "sequence"),
            (#"{"eventId":"\#(eventID)","type":"order.created","occurredAt":"2026-11-21T18:00:00.456Z","data":{}}"#, "sequence"),
            (
                #"{"eventId":"\#(eventID)","type":"order.created","occurredAt":"2026-11-21T18:00:00.456Z","sequence":1,"requestId":5,"data":{}}"#,
                "requestId"
            ),
            (#"{"eventId":"\#(eventID)","type":"order.created","occurredAt":"2026-11-21T18:00:00.456Z","sequence":1}"#, "data"),
        ]
    )
    func invalidEnvelope(body: String, field: String) throws {
        let poison = try #require(Self.poison(body))
        #expect(poison.reason == .invalidEnvelope)
        #expect(poison.detail.hasPrefix(field + ": "), "detail: \(poison.detail)")
        #expect(poison.description.hasPrefix("invalid-envelope: \(field): "))
    }

    @Test(
        "data that does not decode as the handler's record is invalid-data naming data.<field>",
        arguments: [
            (
                #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","amount":"lots","status":"created","createdAt":"2026-11-21T18:00:00.123Z"}"#,
                "data.amount: must be an integer"
            ),
            (
                #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","status":"created","createdAt":"2026-11-21T18:00:00.123Z"}"#,
                "data.amount: is required"
            ),
            (
                #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","amount":null,"status":"created","createdAt":"2026-11-21T18:00:00.123Z"}"#,
                "data.amount: must be an integer, not null"
            ),
            (
                #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2","amount":1,"status":"created","createdAt":"2026-11-21T18:00:00.123Z"}"#,
                "data.customerId: not a UUID: a1b2"
            ),
            (
                #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","amount":1,"status":"created","createdAt":"soon"}"#,
                "data.createdAt: not an RFC 3339 time: soon"
            ),
            (#""just a string""#, "data: "),
        ]
    )
    func invalidData(data: String, expected: String) throws {
        let event = try IncomingEvent(body: Array(Self.envelope(data: data).utf8))
        let poison = try #require(throws: PoisonMessage.self) { try event.decodeData(as: OrderRecord.self) }
        #expect(poison.reason == .invalidData)
        #expect(poison.detail.hasPrefix(expected), "detail: \(poison.detail)")
        #expect(poison.description == "invalid-data: \(poison.detail)")
    }

    @Test("the reason codes are the contract's")
    func reasonCodes() {
        #expect(PoisonMessage.Reason.invalidJSON.rawValue == "invalid-json")
        #expect(PoisonMessage.Reason.invalidEnvelope.rawValue == "invalid-envelope")
        #expect(PoisonMessage.Reason.unknownType.rawValue == "unknown-type")
        #expect(PoisonMessage.Reason.invalidData.rawValue == "invalid-data")
        #expect(PoisonMessage.Reason.processingFailed.rawValue == "processing-failed")
        #expect(PoisonMessage(.unknownType, "thing.happened").description == "unknown-type: thing.happened")
    }
}

/// A `DecodingError` in one line that names the field.
@Suite("Decoding failure messages")
struct DecodingFailureTests {
    struct Inner: Decodable {
        var count: Int64
        var flag: Bool
        var ratio: Double
        var name: String
    }

    struct Outer: Decodable {
        var items: [Inner]
    }

    func decodingFailure(_ json: String) -> DecodingFailure? {
        do {
            _ = try JSONDecoder().decode(Outer.self, from: Data(json.utf8))
            return nil
        } catch {
            return DecodingFailure(error)
        }
    }

    @Test("a missing key names its full path, array indices in brackets")
    func missingKey() throws {
        let failure = try #require(decodingFailure(#"{"items":[{"count":1,"flag":true,"ratio":1.5}]}"#))
        #expect(failure.field == "items.[0].name")
        #expect(failure.reason == "is required")
        #expect(failure.description == "items.[0].name: is required")
    }

    @Test(
        "a wrong type says what was expected in words",
        arguments: [
            (#"{"items":[{"count":"x","flag":true,"ratio":1,"name":"a"}]}"#, "items.[0].count: must be an integer"),
            (#"{"items":[{"count":1,"flag":"yes","ratio":1,"name":"a"}]}"#, "items.[0].flag: must be a boolean"),
            (#"{"items":[{"count":1,"flag":true,"ratio":"half","name":"a"}]}"#, "items.[0].ratio: must be a number"),
            (#"{"items":[{"count":1,"flag":true,"ratio":1,"name":3}]}"#, "items.[0].name: must be a string"),
            (#"{"items":[{"count":1,"flag":true,"ratio":1,"name":null}]}"#, "items.[0].name: must be a string, not null"),
        ])
    func typeMismatch(json: String, expected: String) throws {
        let failure = try #require(decodingFailure(json))
        #expect(failure.description == expected)
    }

    @Test("an error that is not a DecodingError is described by its text at the top level")
    func otherError() {
        struct Oops: Error, CustomStringConvertible { var description: String { "oops" } }
        let failure = DecodingFailure(Oops())
        #expect(failure.field == "")
        #expect(failure.description == "oops")
    }
}
