import Foundation

/// A Swift value that can be sent as a bound query parameter in PostgreSQL's text format.
///
/// Parameters go to the server untyped, so the server infers their type from the statement
/// (`WHERE id = $1`); cast when it cannot (`SELECT $1::int8`). Pass `nil` in the bind list for NULL.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
}

/// A Swift value that can be read from a column in PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Parses PostgreSQL's text output for this type.
    ///
    /// - Throws: ``PostgresError/Code/decoding`` when the text is not a valid value.
    init(postgresText: String) throws
}

/// A value that is both ``PostgresEncodable`` and ``PostgresDecodable``.
public typealias PostgresCodable = PostgresDecodable & PostgresEncodable

/// A type whose NULL has a Swift value; only `Optional` conforms, so that decoding a NULL into
/// `T?` gives `nil` while decoding it into `T` throws.
public protocol PostgresNullDecodable: PostgresDecodable {
    /// The value NULL decodes to.
    static var postgresNull: Self { get }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText: String) throws {
        self = .some(try Wrapped(postgresText: postgresText))
    }
}

extension Optional: PostgresNullDecodable where Wrapped: PostgresDecodable {
    public static var postgresNull: Self { .none }
}

/// The error a ``PostgresDecodable`` type throws for text it cannot parse; the row adds the column.
func decodingError<T>(_ type: T.Type) -> PostgresError {
    PostgresError(code: .decoding, message: "invalid text for \(T.self)")
}

extension String: PostgresCodable {
    public var postgresText: String { self }
    public init(postgresText: String) { self = postgresText }
}

extension PostgresEncodable where Self: FixedWidthInteger {
    /// The decimal digits, as `int2`, `int4` and `int8` are written.
    public var postgresText: String { String(self) }
}

extension PostgresDecodable where Self: FixedWidthInteger {
    /// Parses decimal digits; text that is not an integer, or one out of range, throws.
    public init(postgresText: String) throws {
        guard let value = Self(postgresText, radix: 10) else { throw decodingError(Self.self) }
        self = value
    }
}

extension Int: PostgresCodable {}
extension Int64: PostgresCodable {}
extension Int32: PostgresCodable {}

extension Bool: PostgresCodable {
    public var postgresText: String { self ? "t" : "f" }
    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw decodingError(Bool.self)
        }
    }
}

extension Double: PostgresCodable {
    public var postgresText: String {
        if self.isNaN {
            return "NaN"
        }
        if self.isInfinite {
            return self < 0 ? "-Infinity" : "Infinity"
        }
        return String(self)
    }

    public init(postgresText: String) throws {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText) else { throw decodingError(Double.self) }
            self = value
        }
    }
}

extension UUID: PostgresCodable {
    /// The lowercase hyphenated form, as PostgreSQL itself prints a `uuid`.
    public var postgresText: String { self.uuidString.lowercased() }
    public init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw decodingError(UUID.self) }
        self = value
    }
}
