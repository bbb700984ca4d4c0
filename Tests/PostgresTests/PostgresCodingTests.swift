import Foundation
import Postgres
import Testing

/// Text encoding and decoding of every supported type; needs no server.
@Suite struct PostgresCodingTests {
    @Test func scalarsRoundTrip() throws {
        #expect(String(postgresText: "héllo, \"world\"".postgresText) == "héllo, \"world\"")
        #expect(try Int(postgresText: Int.min.postgresText) == Int.min)
        #expect(try Int64(postgresText: Int64.max.postgresText) == Int64.max)
        #expect(try Int32(postgresText: Int32(-42).postgresText) == -42)
        #expect(true.postgresText == "t")
        #expect(try Bool(postgresText: "t") == true)
        #expect(try Bool(postgresText: "f") == false)
        #expect(try Double(postgresText: 1.5e300.postgresText) == 1.5e300)
        #expect(try Double(postgresText: (-0.1).postgresText) == -0.1)
        #expect(Double.infinity.postgresText == "Infinity")
        #expect(try Double(postgresText: "-Infinity") == -.infinity)
        #expect(try Double(postgresText: "NaN").isNaN)
        let id = UUID()
        #expect(id.postgresText == id.uuidString.lowercased())
        #expect(try UUID(postgresText: id.postgresText) == id)
    }

    @Test func invalidTextThrowsDecodingError() {
        for attempt in [
            { _ = try Int(postgresText: "1.5") },
            { _ = try Int32(postgresText: "3000000000") },
            { _ = try Bool(postgresText: "yes") },
            { _ = try UUID(postgresText: "not-a-uuid") },
            { _ = try Date(postgresText: "2026-13-01 00:00:00+00") },
            { _ = try [Int64](postgresText: "1,2") },
        ] as [() throws -> Void] {
            #expect { try attempt() } throws: { ($0 as? PostgresError)?.code == .decoding }
        }
    }

    @Test func optionalDecodesNullAsNil() throws {
        #expect(String?.postgresNull == nil)
        #expect(try Int?(postgresText: "7") == 7)
    }

    @Test(arguments: [
        "2026-11-21T18:00:00.123456Z",
        "1970-01-01T00:00:00.000000Z",
        "1969-12-31T23:59:59.999999Z",
        "2000-02-29T12:34:56.000001Z",
        "2200-12-31T23:59:59.999999Z",
        "9999-12-31T23:59:59.500000Z",
        "0044-03-15T12:00:00.000000Z BC",
    ])
    func dateTextRoundTrips(text: String) throws {
        #expect(try Date(postgresText: text).postgresText == text)
    }

    @Test func dateRoundTripKeepsMicroseconds() throws {
        for interval in [0, 1.5, -1.25, 785_000_000.123456, 1_795_000_000.654321, -12_345_678_901.000001] {
            let date = Date(timeIntervalSince1970: interval)
            let decoded = try Date(postgresText: date.postgresText)
            #expect(abs(decoded.timeIntervalSince(date)) < 0.000_001, "\(date.postgresText)")
        }
    }

    @Test func dateDecodesPostgresOutputWithOffsets() throws {
        let utc = try Date(postgresText: "2026-11-21 18:00:00.5+00")
        #expect(utc == Date(timeIntervalSince1970: 1_795_284_000.5))
        #expect(try Date(postgresText: "2026-11-21 23:30:00.5+05:30") == utc)
        #expect(try Date(postgresText: "2026-11-21 10:00:00.5-08") == utc)
        #expect(try Date(postgresText: "2026-11-21 18:00:00+00") == Date(timeIntervalSince1970: 1_795_284_000))
        #expect(try Date(postgresText: "infinity") == .distantFuture)
        #expect(try Date(postgresText: "-infinity") == .distantPast)
    }

    @Test func arraysEncodeAsQuotedLiterals() {
        #expect([Int64]().postgresText == "{}")
        #expect([Int64(1), -2].postgresText == "{\"1\",\"-2\"}")
        #expect(["a", "b\"c", "d\\e", "f,g", ""].postgresText == #"{"a","b\"c","d\\e","f,g",""}"#)
    }

    @Test func arraysDecodePostgresOutput() throws {
        #expect(try [Int64](postgresText: "{}") == [])
        #expect(try [Int64](postgresText: "{1,-2,3}") == [1, -2, 3])
        #expect(try [String](postgresText: #"{a,"b\"c","d\\e","f,g","",NULL-ish,"NULL"}"#) == ["a", "b\"c", "d\\e", "f,g", "", "NULL-ish", "NULL"])
        #expect(try [Int64](postgresText: "[0:1]={5,6}") == [5, 6])
        let ids = [UUID(), UUID()]
        #expect(try [UUID](postgresText: "{\(ids[0].postgresText),\(ids[1].postgresText)}") == ids)
        #expect(try [String](postgresText: ["x y", "z"].postgresText) == ["x y", "z"])
        #expect { try [String](postgresText: "{a,NULL}") } throws: { ($0 as? PostgresError)?.code == .decoding }
    }

    @Test func arraysWithNullElements() throws {
        #expect(([String?](["a", nil, "NULL"])).postgresText == #"{"a",NULL,"NULL"}"#)
        #expect(try [String?](postgresText: #"{a,NULL,"NULL"}"#) == ["a", nil, "NULL"])
        #expect(try [Int64?](postgresText: "{NULL}") == [nil])
    }

    @Test func errorClassification() {
        #expect(PostgresError(code: .server, message: "", sqlState: "23505").isUniqueViolation)
        #expect(PostgresError(code: .connectionFailed, message: "").isConnectionFailure)
        #expect(PostgresError(code: .connectionLost, message: "").isConnectionFailure)
        #expect(PostgresError(code: .server, message: "", sqlState: "08006").isConnectionFailure)
        #expect(PostgresError(code: .server, message: "", sqlState: "57P01").isConnectionFailure)
        #expect(PostgresError(code: .server, message: "", sqlState: "57P03").isConnectionFailure)
        #expect(!PostgresError(code: .server, message: "", sqlState: "57014").isConnectionFailure)
        #expect(!PostgresError(code: .server, message: "", sqlState: "42601").isConnectionFailure)
        #expect(!PostgresError(code: .server, message: "", sqlState: "23505").isConnectionFailure)
    }
}
