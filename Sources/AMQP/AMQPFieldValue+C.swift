import CAMQPShim
import CRabbitMQ
import Foundation

/// The kind bytes of rabbitmq-c's field values, as `UInt8` for `amqp_field_value_t.kind`.
enum AMQPFieldKind {
    static let boolean = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
    static let i8 = UInt8(AMQP_FIELD_KIND_I8.rawValue)
    static let u8 = UInt8(AMQP_FIELD_KIND_U8.rawValue)
    static let i16 = UInt8(AMQP_FIELD_KIND_I16.rawValue)
    static let u16 = UInt8(AMQP_FIELD_KIND_U16.rawValue)
    static let i32 = UInt8(AMQP_FIELD_KIND_I32.rawValue)
    static let u32 = UInt8(AMQP_FIELD_KIND_U32.rawValue)
    static let i64 = UInt8(AMQP_FIELD_KIND_I64.rawValue)
    static let u64 = UInt8(AMQP_FIELD_KIND_U64.rawValue)
    static let f32 = UInt8(AMQP_FIELD_KIND_F32.rawValue)
    static let f64 = UInt8(AMQP_FIELD_KIND_F64.rawValue)
    static let decimal = UInt8(AMQP_FIELD_KIND_DECIMAL.rawValue)
    static let utf8 = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
    static let array = UInt8(AMQP_FIELD_KIND_ARRAY.rawValue)
    static let timestamp = UInt8(AMQP_FIELD_KIND_TIMESTAMP.rawValue)
    static let table = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
    static let void = UInt8(AMQP_FIELD_KIND_VOID.rawValue)
    static let bytes = UInt8(AMQP_FIELD_KIND_BYTES.rawValue)
}

extension AMQPScratchPool {
    /// The table as rabbitmq-c structures in this pool (in dictionary order: AMQP tables are unordered).
    func table(_ table: AMQPTable) throws -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = try allocate(amqp_table_entry_t.self, count: table.count)
        for (index, (key, value)) in table.enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: try bytes(key), value: try fieldValue(value)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    /// One field value as a rabbitmq-c structure in this pool.
    func fieldValue(_ value: AMQPFieldValue) throws -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .string(let string):
            field.kind = AMQPFieldKind.utf8
            field.value.bytes = try bytes(string)
        case .int(let int):
            field.kind = AMQPFieldKind.i64
            field.value.i64 = int
        case .bool(let bool):
            field.kind = AMQPFieldKind.boolean
            field.value.boolean = bool ? 1 : 0
        case .double(let double):
            field.kind = AMQPFieldKind.f64
            field.value.f64 = double
        case .timestamp(let date):
            field.kind = AMQPFieldKind.timestamp
            field.value.u64 = UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
        case .table(let nested):
            field.kind = AMQPFieldKind.table
            field.value.table = try table(nested)
        case .array(let elements):
            field.kind = AMQPFieldKind.array
            if elements.isEmpty {
                field.value.array = amqp_array_t(num_entries: 0, entries: nil)
            } else {
                let entries = try allocate(amqp_field_value_t.self, count: elements.count)
                for (index, element) in elements.enumerated() {
                    (entries + index).initialize(to: try fieldValue(element))
                }
                field.value.array = amqp_array_t(num_entries: Int32(elements.count), entries: entries)
            }
        case .bytes(let raw):
            field.kind = AMQPFieldKind.bytes
            field.value.bytes = try raw.withUnsafeBytes { try bytes($0) }
        case .decimal(let scale, let decimalValue):
            field.kind = AMQPFieldKind.decimal
            field.value.decimal = amqp_decimal_t(decimals: scale, value: decimalValue)
        case .void:
            field.kind = AMQPFieldKind.void
        }
        return field
    }
}

extension AMQPFieldValue {
    /// How deep tables and arrays nest before what is deeper is decoded as `.void`: far more than
    /// any header the services read, and a bound on the recursion a hostile publisher can cause.
    static let maximumNesting = 16

    /// Decodes a rabbitmq-c table (copying everything out of C memory); below
    /// ``maximumNesting`` levels, nested tables and arrays are `.void`.
    static func table(_ table: amqp_table_t, depth: Int = 0) -> AMQPTable {
        var result: AMQPTable = [:]
        guard table.num_entries > 0, let entries = table.entries else { return result }
        result.reserveCapacity(Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result[entry.key.string] = AMQPFieldValue(entry.value, depth: depth + 1)
        }
        return result
    }

    /// Decodes one rabbitmq-c field value (copying it out of C memory) at nesting level `depth`.
    init(_ field: amqp_field_value_t, depth: Int = 0) {
        if depth > Self.maximumNesting, field.kind == AMQPFieldKind.table || field.kind == AMQPFieldKind.array {
            self = .void
            return
        }
        switch field.kind {
        case AMQPFieldKind.boolean: self = .bool(field.value.boolean != 0)
        case AMQPFieldKind.i8: self = .int(Int64(field.value.i8))
        case AMQPFieldKind.u8: self = .int(Int64(field.value.u8))
        case AMQPFieldKind.i16: self = .int(Int64(field.value.i16))
        case AMQPFieldKind.u16: self = .int(Int64(field.value.u16))
        case AMQPFieldKind.i32: self = .int(Int64(field.value.i32))
        case AMQPFieldKind.u32: self = .int(Int64(field.value.u32))
        case AMQPFieldKind.i64: self = .int(field.value.i64)
        case AMQPFieldKind.u64: self = .int(Int64(truncatingIfNeeded: field.value.u64))
        case AMQPFieldKind.f32: self = .double(Double(field.value.f32))
        case AMQPFieldKind.f64: self = .double(field.value.f64)
        case AMQPFieldKind.decimal: self = .decimal(scale: field.value.decimal.decimals, value: field.value.decimal.value)
        case AMQPFieldKind.timestamp: self = .timestamp(Date(timeIntervalSince1970: TimeInterval(field.value.u64)))
        case AMQPFieldKind.table: self = .table(AMQPFieldValue.table(field.value.table, depth: depth))
        case AMQPFieldKind.array:
            let array = field.value.array
            var elements: [AMQPFieldValue] = []
            if array.num_entries > 0, let entries = array.entries {
                elements.reserveCapacity(Int(array.num_entries))
                for index in 0..<Int(array.num_entries) { elements.append(AMQPFieldValue(entries[index], depth: depth + 1)) }
            }
            self = .array(elements)
        case AMQPFieldKind.utf8:
            let raw = field.value.bytes.array
            if let string = String(validating: raw, as: UTF8.self) { self = .string(string) } else { self = .bytes(raw) }
        case AMQPFieldKind.bytes: self = .bytes(field.value.bytes.array)
        default: self = .void
        }
    }
}

/// Encodes and decodes field tables in AMQP wire format with rabbitmq-c's own codec
/// (`amqp_encode_table` / `amqp_decode_table`); used by the tests to check the round trip.
enum AMQPFieldTableCodec {
    /// The wire bytes of the table.
    static func encode(_ table: AMQPTable) throws -> [UInt8] {
        let pool = AMQPScratchPool()
        var cTable = try pool.table(table)
        var capacity = 4096
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            var offset = 0
            let status = buffer.withUnsafeMutableBytes { raw in
                amqp_encode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &cTable, &offset)
            }
            if status == AMQP_STATUS_OK.rawValue {
                return Array(buffer[0..<offset])
            }
            guard status == AMQP_STATUS_TABLE_TOO_BIG.rawValue, capacity < 1 << 26 else {
                throw AMQPError(.protocolError, "amqp_encode_table failed: \(AMQPConnectionHandle.statusText(status))")
            }
            capacity *= 4
        }
    }

    /// The table that the wire bytes hold.
    static func decode(_ bytes: [UInt8]) throws -> AMQPTable {
        var pool = amqp_pool_t()
        init_amqp_pool(&pool, 4096)
        defer { empty_amqp_pool(&pool) }
        var output = amqp_table_t()
        var offset = 0
        var copy = bytes
        let status = copy.withUnsafeMutableBytes { raw in
            amqp_decode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &pool, &output, &offset)
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.protocolError, "amqp_decode_table failed: \(AMQPConnectionHandle.statusText(status))")
        }
        return AMQPFieldValue.table(output)
    }
}
