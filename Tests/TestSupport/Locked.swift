import Synchronization

/// A value shared between the tasks of a test.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    /// The value now.
    public var value: Value { mutex.withLock { $0 } }

    /// Changes the value under the lock.
    public func update(_ body: (inout Value) -> Void) {
        mutex.withLock { body(&$0) }
    }
}

/// What concurrent tasks of a test collected (deliveries, ids), in the order they added it.
public final class Collector<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    public init() {}

    /// Adds `element` at the end.
    public func append(_ element: Element) { elements.withLock { $0.append(element) } }

    /// Everything collected so far.
    public var all: [Element] { elements.withLock { $0 } }

    /// How many elements were collected so far.
    public var count: Int { elements.withLock { $0.count } }
}
