import Foundation

/// A value in an AMQP field table (message headers, queue arguments).
///
/// Encoding: `string` as long string `S`, `int` as signed 64-bit `l`, `bool` as `t`,
/// `double` as `d`, `timestamp` as `T` (whole seconds), `table` as `F`, `array` as `A`,
/// `bytes` as `x`, `decimal` as `D`, `void` as `V`. Decoding widens every integer kind to `int`
/// and `f` to `double`; a long string that is not UTF-8 becomes `bytes`.
public enum AMQPFieldValue: Sendable, Hashable {
    /// UTF-8 text (`S`).
    case string(String)
    /// A signed integer (`l`; decoded from any integer kind).
    case int(Int64)
    /// A boolean (`t`).
    case bool(Bool)
    /// A floating-point number (`d`; decoded from `f` too).
    case double(Double)
    /// A point in time with whole-second precision (`T`).
    case timestamp(Date)
    /// A nested table (`F`).
    case table([String: AMQPFieldValue])
    /// An array (`A`).
    case array([AMQPFieldValue])
    /// Raw bytes (`x`, or an `S` that is not UTF-8).
    case bytes([UInt8])
    /// A decimal: `value` × 10^-`scale` (`D`).
    case decimal(scale: UInt8, value: UInt32)
    /// No value (`V`).
    case void
}

/// A field table: header names or argument names to values.
public typealias AMQPTable = [String: AMQPFieldValue]

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral {
    /// `"text"` is `.string("text")`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `42` is `.int(42)`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// `true` is `.bool(true)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `1.5` is `.double(1.5)`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension AMQPFieldValue {
    /// The text of a `.string` value (or of `.bytes` that are UTF-8), else `nil`.
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(validating: b, as: UTF8.self)
        default: return nil
        }
    }

    /// The number of an `.int` value, else `nil`.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}
