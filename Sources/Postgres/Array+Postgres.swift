import Foundation

/// A type that can be an element of a one-dimensional PostgreSQL array parameter or column:
/// the scalar types, and `Optional` of them for arrays with NULL elements.
public protocol PostgresArrayElement: PostgresDecodable, Sendable {
    /// The element's text, or nil for NULL.
    var postgresArrayElementText: String? { get }
}

extension PostgresArrayElement where Self: PostgresEncodable {
    public var postgresArrayElementText: String? { postgresText }
}

/// `[String?]` and the like: `nil` travels as an unquoted `NULL` and decodes back to `nil`.
extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement & PostgresEncodable {
    public var postgresArrayElementText: String? { self?.postgresText }
}

extension String: PostgresArrayElement {}
extension Int: PostgresArrayElement {}
extension Int64: PostgresArrayElement {}
extension Int32: PostgresArrayElement {}
extension Bool: PostgresArrayElement {}
extension Double: PostgresArrayElement {}
extension UUID: PostgresArrayElement {}
extension Date: PostgresArrayElement {}

/// Arrays travel as one-dimensional array literals (`{"a","b"}`), for `= ANY($1)` and
/// `unnest($1::text[])`. Every element is quoted, which PostgreSQL accepts for any element type;
/// a NULL element is `NULL`, unquoted. Decoding a NULL element into a non-optional type throws.
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresText: String {
        var text = "{"
        for (position, element) in self.enumerated() {
            if position > 0 {
                text.append(",")
            }
            guard let elementText = element.postgresArrayElementText else {
                text.append("NULL")
                continue
            }
            text.append("\"")
            for character in elementText.unicodeScalars {
                if character == "\"" || character == "\\" {
                    text.unicodeScalars.append("\\")
                }
                text.unicodeScalars.append(character)
            }
            text.append("\"")
        }
        text.append("}")
        return text
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresText: String) throws {
        var scalars = Substring(postgresText).unicodeScalars[...]
        // A lower bound other than 1 is printed as a `[0:2]=` prefix.
        if scalars.first == "[", let equals = scalars.firstIndex(of: "=") {
            scalars = scalars[scalars.index(after: equals)...]
        }
        guard scalars.first == "{", scalars.last == "}" else {
            throw decodingError([Element].self)
        }
        scalars = scalars.dropFirst().dropLast()
        var elements: [Element] = []
        if scalars.isEmpty {
            self = elements
            return
        }
        var current = String.UnicodeScalarView()
        var quoted = false
        var wasQuoted = false
        var escaped = false
        func finish() throws {
            let text = String(current)
            if !wasQuoted && text == "NULL" {
                guard let null = Element.self as? any PostgresNullDecodable.Type else {
                    throw PostgresError(code: .decoding, message: "NULL element in an array of \(Element.self)")
                }
                elements.append(null.postgresNull as! Element)
                current = String.UnicodeScalarView()
                wasQuoted = false
                return
            }
            elements.append(try Element(postgresText: wasQuoted ? text : text.trimmingSpaces()))
            current = String.UnicodeScalarView()
            wasQuoted = false
        }
        for scalar in scalars {
            if escaped {
                current.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if scalar == "," && !quoted {
                try finish()
            } else if scalar == "{" && !quoted {
                throw PostgresError(code: .decoding, message: "multi-dimensional arrays are not supported")
            } else {
                current.append(scalar)
            }
        }
        guard !quoted, !escaped else { throw decodingError([Element].self) }
        try finish()
        self = elements
    }
}

extension String {
    /// Unquoted array elements may be padded with spaces, which are not part of the value.
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " { view.removeFirst() }
        while view.last == " " { view.removeLast() }
        return String(view)
    }
}
