import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Version 7 UUIDs (RFC 9562): the first 48 bits are the Unix time in milliseconds, the other
/// 74 free bits come from the kernel's random generator.
///
/// They are what the services give new records, events and requests:
/// - ids made close together sort close together, so an insert into a B-tree index on them
///   (a table's primary key, the inbox) touches the index's last page instead of a random one,
///   and after a checkpoint writes far fewer whole pages to the WAL;
/// - the random bits come from a buffer refilled 256 bytes (16 UUIDs) per `getentropy` call,
///   instead of one system call per UUID, as `UUID()` makes. They stay unpredictable: the buffer
///   is the kernel's cryptographic generator's output, each byte used once.
///
/// An id says when it was made, to the millisecond; the records carry that time anyway (`createdAt`).
public enum TimeOrderedUUID {
    /// A new version 7 UUID.
    public static func make() -> UUID {
        make(at: Date())
    }

    /// A new version 7 UUID for the time `date`.
    static func make(at date: Date) -> UUID {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = RandomPool.shared.withLock { $0.next() }
        withUnsafeMutableBytes(of: &bytes) { raw in
            for index in 0..<6 {
                raw[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index)))
            }
            raw[6] = 0x70 | (raw[6] & 0x0F)  // version 7
            raw[8] = 0x80 | (raw[8] & 0x3F)  // variant 0b10
        }
        return UUID(uuid: bytes)
    }
}

/// Random bytes, taken from the kernel a buffer at a time, each handed out once.
struct RandomPool {
    /// The process's pool.
    static let shared = Mutex(RandomPool())

    /// `count` (at most 256) random bytes from the process's pool.
    static func bytes(_ count: Int) -> [UInt8] {
        shared.withLock { pool in
            if pool.offset + count > size { pool.refill() }
            defer { pool.offset += count }
            return Array(pool.buffer[pool.offset..<pool.offset + count])
        }
    }

    /// `getentropy`'s most per call.
    private static let size = 256
    private var buffer = [UInt8](repeating: 0, count: size)
    private var offset = size

    mutating func next() -> uuid_t {
        if offset + 16 > Self.size { refill() }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        buffer.withUnsafeBytes { source in
            withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + 16])) }
        }
        offset += 16
        return value
    }

    private mutating func refill() {
        buffer.withUnsafeMutableBytes { raw in
            #if canImport(Glibc)
            precondition(getentropy(raw.baseAddress!, raw.count) == 0, "getentropy failed: errno \(errno)")
            #else
            arc4random_buf(raw.baseAddress!, raw.count)
            #endif
        }
        offset = 0
    }
}
