import CAMQPShim
import CRabbitMQ
import Foundation

/// A rabbitmq-c memory pool used as a scratch arena for the C structures of one call
/// (names, property strings, argument tables), recycled after the call.
///
/// Owned by an ``AMQPConnectionHandle`` and so confined to that connection's thread.
final class AMQPScratchPool {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    /// Creates a pool whose pages are `pageSize` bytes (larger allocations get their own block).
    init(pageSize: Int = 16_384) {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, pageSize)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Releases everything allocated since the last recycle, keeping the first page for reuse.
    func recycle() {
        recycle_amqp_pool(pool)
    }

    /// Uninitialised memory for `count` values of `T`, valid until the next ``recycle()``.
    func allocate<T>(_ type: T.Type, count: Int) throws -> UnsafeMutablePointer<T> {
        guard let raw = amqp_pool_alloc(pool, count * MemoryLayout<T>.stride) else {
            throw AMQPError(.protocolError, "rabbitmq-c pool allocation of \(count * MemoryLayout<T>.stride) bytes failed")
        }
        return raw.bindMemory(to: type, capacity: count)
    }

    /// A copy of the string's UTF-8 bytes, valid until the next ``recycle()``.
    func bytes(_ string: String) throws -> amqp_bytes_t {
        var string = string
        return try string.withUTF8 { try bytes(UnsafeRawBufferPointer($0)) }
    }

    /// A copy of the bytes, valid until the next ``recycle()``.
    func bytes(_ buffer: UnsafeRawBufferPointer) throws -> amqp_bytes_t {
        guard buffer.count > 0, let base = buffer.baseAddress else { return amqp_bytes_t(len: 0, bytes: nil) }
        let target = try allocate(UInt8.self, count: buffer.count)
        target.update(from: base.assumingMemoryBound(to: UInt8.self), count: buffer.count)
        return amqp_bytes_t(len: buffer.count, bytes: UnsafeMutableRawPointer(target))
    }
}

extension amqp_bytes_t {
    /// The bytes as a Swift string (invalid UTF-8 is repaired), for names and texts from the broker.
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

    /// A copy of the bytes.
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: len))
    }
}
