import Contract
import Foundation
import Testing

/// The records and the envelope travel as the contract's JSON: lowercase UUIDs,
/// RFC 3339 UTC times with milliseconds, field names as in the HTTP API.
@Suite("Record and envelope JSON")
struct RecordCodingTests {
    static let customerID = UUID(uuidString: "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF")!
    static let orderID = UUID(uuidString: "0F0E0D0C-0B0A-4908-8706-050403020100")!
    static let eventID = UUID(uuidString: "DEADBEEF-0000-4000-8000-00000000CAFE")!
    /// 2026-11-21T18:00:00.123Z.
    static let createdAt = Date(timeIntervalSince1970: 1_795_284_000.123)

    static let customer = CustomerRecord(id: customerID, name: "Ada Lovelace", email: "ada@example.org", creditLimit: 150_000, createdAt: createdAt)
    static let order = OrderRecord(id: orderID, customerId: customerID, amount: 4_200, createdAt: createdAt)

    /// The object the JSON text holds, to compare member by member.
    func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The context of the `dataCorrupted` error that decoding `json` as `type` throws; records
    /// an issue and throws when decoding throws another error or none.
    func dataCorruption<T: Decodable>(
        decoding json: String, as type: T.Type, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> DecodingError.Context {
        let error = try #require(throws: DecodingError.self, sourceLocation: sourceLocation) {
            try JSONDecoder().decode(type, from: Data(json.utf8))
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("expected dataCorrupted, got \(error)", sourceLocation: sourceLocation)
            throw error
        }
        return context
    }

    @Test("a customer encodes with lowercase id and a millisecond UTC time")
    func customerEncoding() throws {
        let json = try object(try JSONEncoder().encode(Self.customer))
        #expect(json["id"] as? String == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")
        #expect(json["name"] as? String == "Ada Lovelace")
        #expect(json["email"] as? String == "ada@example.org")
        #expect(json["creditLimit"] as? Int == 150_000)
        #expect(json["createdAt"] as? String == "2026-11-21T18:00:00.123Z")
        #expect(json["version"] as? Int == 1)
        #expect(json["updatedAt"] as? String == "2026-11-21T18:00:00.123Z", "a new record was last changed when it was created")
        #expect(Set(json.keys) == ["id", "name", "email", "creditLimit", "createdAt", "version", "updatedAt"])
    }

    @Test("an event written before records had versions decodes as version 1, last changed when created")
    func recordWithoutVersion() throws {
        let customer = try JSONDecoder().decode(
            CustomerRecord.self,
            from: Data(
                #"{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","name":"Ada","email":"ada@example.org","creditLimit":0,"createdAt":"2026-11-21T18:00:00.123Z"}"#
                    .utf8))
        #expect(customer.version == 1)
        #expect(customer.updatedAt == customer.createdAt)
        let order = try JSONDecoder().decode(
            OrderRecord.self,
            from: Data(
                #"{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","customerId":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","amount":5,"status":"created","createdAt":"2026-11-21T18:00:00.123Z","version":3,"updatedAt":"2026-11-22T08:00:00.000Z"}"#
                    .utf8))
        #expect(order.version == 3)
        #expect(Timestamp.format(order.updatedAt) == "2026-11-22T08:00:00.000Z")
        #expect(OrderRecord(id: UUID(), customerId: UUID(), amount: 1, createdAt: Date(), version: 0).validate().map(\.name) == ["version"])
    }

    @Test("a customer survives a round trip")
    func customerRoundTrip() throws {
        let decoded = try JSONDecoder().decode(CustomerRecord.self, from: try JSONEncoder().encode(Self.customer))
        #expect(decoded.id == Self.customer.id)
        #expect(decoded.name == Self.customer.name)
        #expect(decoded.email == Self.customer.email)
        #expect(decoded.creditLimit == Self.customer.creditLimit)
        #expect(Timestamp.format(decoded.createdAt) == "2026-11-21T18:00:00.123Z")
        #expect(abs(decoded.createdAt.timeIntervalSince(Self.createdAt)) < 0.0005)
    }

    @Test("an order encodes with lowercase ids and a millisecond UTC time, and survives a round trip")
    func orderRoundTrip() throws {
        let data = try JSONEncoder().encode(Self.order)
        let json = try object(data)
        #expect(json["id"] as? String == "0f0e0d0c-0b0a-4908-8706-050403020100")
        #expect(json["customerId"] as? String == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")
        #expect(json["amount"] as? Int == 4_200)
        #expect(json["status"] as? String == "created")
        #expect(json["createdAt"] as? String == "2026-11-21T18:00:00.123Z")
        #expect(json["version"] as? Int == 1)
        #expect(Set(json.keys) == ["id", "customerId", "amount", "status", "createdAt", "version", "updatedAt"])

        let decoded = try JSONDecoder().decode(OrderRecord.self, from: data)
        #expect(decoded.id == Self.orderID)
        #expect(decoded.customerId == Self.customerID)
        #expect(decoded.amount == 4_200)
        #expect(decoded.status == "created")
        #expect(Timestamp.format(decoded.createdAt) == "2026-11-21T18:00:00.123Z")
    }

    @Test("uppercase UUIDs and times without a fraction are accepted on input")
    func lenientInput() throws {
        let json = """
            {"id":"A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF","name":"Ada","email":"ada@example.org",
             "creditLimit":0,"createdAt":"2026-11-21T18:00:00Z"}
            """
        let decoded = try JSONDecoder().decode(CustomerRecord.self, from: Data(json.utf8))
        #expect(decoded.id == Self.customerID)
        #expect(Timestamp.format(decoded.createdAt) == "2026-11-21T18:00:00.000Z")
    }

    @Test("an envelope encodes every contract field and carries the record as data")
    func envelopeEncoding() throws {
        let envelope = EventEnvelope(
            eventId: Self.eventID, type: EventType.orderCreated.rawValue, occurredAt: Self.createdAt,
            sequence: 42, requestId: "req-1", data: Self.order
        )
        let data = Data(try envelope.body())
        let json = try object(data)
        #expect(json["eventId"] as? String == "deadbeef-0000-4000-8000-00000000cafe")
        #expect(json["type"] as? String == "order.created")
        #expect(json["occurredAt"] as? String == "2026-11-21T18:00:00.123Z")
        #expect(json["sequence"] as? Int == 42)
        #expect(json["requestId"] as? String == "req-1")
        let record = try #require(json["data"] as? [String: Any])
        #expect(record["id"] as? String == "0f0e0d0c-0b0a-4908-8706-050403020100")

        let decoded = try JSONDecoder().decode(EventEnvelope<OrderRecord>.self, from: data)
        #expect(decoded.eventId == Self.eventID)
        #expect(decoded.type == "order.created")
        #expect(decoded.sequence == 42)
        #expect(decoded.requestId == "req-1")
        #expect(Timestamp.format(decoded.occurredAt) == "2026-11-21T18:00:00.123Z")
        #expect(decoded.data.id == Self.orderID)
        #expect(decoded.data.amount == 4_200)
    }

    @Test("an envelope without a request id leaves the member out and decodes it as nil")
    func envelopeWithoutRequestID() throws {
        let envelope = EventEnvelope(
            eventId: Self.eventID, type: EventType.customerCreated.rawValue, occurredAt: Self.createdAt,
            sequence: 1, requestId: nil, data: Self.customer
        )
        let data = Data(try envelope.body())
        #expect(try object(data)["requestId"] == nil)
        let decoded = try JSONDecoder().decode(EventEnvelope<CustomerRecord>.self, from: data)
        #expect(decoded.requestId == nil)
        #expect(decoded.data.email == "ada@example.org")
    }

    @Test("the event types are the contract's names")
    func eventTypes() {
        #expect(EventType.customerCreated.rawValue == "customer.created")
        #expect(EventType.orderCreated.rawValue == "order.created")
        #expect(EventType.customerUpdated.rawValue == "customer.updated")
        #expect(EventType.customerDeleted.rawValue == "customer.deleted")
        #expect(EventType.orderCancelled.rawValue == "order.cancelled")
        #expect(EventType.customerSnapshot.rawValue == "customer.snapshot")
        #expect(EventType.orderSnapshot.rawValue == "order.snapshot")
        #expect(EventType.allCases.count == 7)
    }

    @Test("a tombstone travels as {id, version, deletedAt}, as customer.deleted carries it")
    func tombstoneJSON() throws {
        let tombstone = Tombstone(
            id: UUID(uuidString: "6F1C1B36-6A6E-4A39-9A41-0D6F0C0B6B8E")!, version: 3, deletedAt: Date(timeIntervalSince1970: 1_800_000_000.25))
        let json = String(decoding: try JSONEncoder().encode(tombstone), as: UTF8.self)
        #expect(json.contains(#""id":"6f1c1b36-6a6e-4a39-9a41-0d6f0c0b6b8e""#))
        #expect(json.contains(#""deletedAt":"2027-01-15T08:00:00.250Z""#))
        #expect(try JSONDecoder().decode(Tombstone.self, from: Data(json.utf8)) == tombstone)
        #expect(Tombstone(id: tombstone.id, version: 0, deletedAt: tombstone.deletedAt).validate(prefix: "data.").map(\.name) == ["data.version"])
    }

    @Test(
        "a malformed UUID is a decoding error naming the field",
        arguments: ["not-a-uuid", "", "a1b2c3d4e5f647118899aabbccddeeff", "a1b2c3d4-e5f6-4711-8899-aabbccddeeffff"]
    )
    func badUUID(text: String) throws {
        let json = """
            {"id":"\(text)","name":"Ada","email":"ada@example.org","creditLimit":0,"createdAt":"2026-11-21T18:00:00.123Z"}
            """
        let context = try dataCorruption(decoding: json, as: CustomerRecord.self)
        #expect(context.codingPath.map(\.stringValue) == ["id"])
        #expect(context.debugDescription.contains("not a UUID"))
    }

    @Test(
        "a malformed time is a decoding error naming the field",
        arguments: ["yesterday", "2026-11-21 18:00:00", "2026-13-21T18:00:00.123Z", "1795284000", ""]
    )
    func badTime(text: String) throws {
        let json = """
            {"id":"\(Self.orderID.lowercased)","customerId":"\(Self.customerID.lowercased)","amount":1,
             "status":"created","createdAt":"\(text)"}
            """
        let context = try dataCorruption(decoding: json, as: OrderRecord.self)
        #expect(context.codingPath.map(\.stringValue) == ["createdAt"])
        #expect(context.debugDescription.contains("not an RFC 3339 time"))
    }

    @Test("a bad envelope field is an error naming the field, nested for data")
    func badEnvelopeFields() throws {
        let good = try JSONEncoder().encode(Self.order)
        let order = String(decoding: good, as: UTF8.self)
        let badEventID = """
            {"eventId":"nope","type":"order.created","occurredAt":"2026-11-21T18:00:00.123Z","sequence":1,"data":\(order)}
            """
        let eventIDContext = try dataCorruption(decoding: badEventID, as: EventEnvelope<OrderRecord>.self)
        #expect(eventIDContext.codingPath.map(\.stringValue) == ["eventId"])

        let badData = """
            {"eventId":"\(Self.eventID.lowercased)","type":"order.created","occurredAt":"2026-11-21T18:00:00.123Z","sequence":1,
             "data":{"id":"\(Self.orderID.lowercased)","customerId":"x","amount":1,"status":"created","createdAt":"2026-11-21T18:00:00.123Z"}}
            """
        let dataContext = try dataCorruption(decoding: badData, as: EventEnvelope<OrderRecord>.self)
        #expect(dataContext.codingPath.map(\.stringValue) == ["data", "customerId"])
    }

    @Test("IgnoredPayload accepts any data, so the envelope can be read before its type is known")
    func ignoredPayload() throws {
        let json = """
            {"eventId":"\(Self.eventID.lowercased)","type":"thing.happened","occurredAt":"2026-11-21T18:00:00.123Z",
             "sequence":7,"data":[1, "two", {"three": null}]}
            """
        let envelope = try JSONDecoder().decode(EventEnvelope<IgnoredPayload>.self, from: Data(json.utf8))
        #expect(envelope.type == "thing.happened")
        #expect(envelope.sequence == 7)
        #expect(envelope.requestId == nil)
    }
}
