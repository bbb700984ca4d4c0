import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The dedicated thread of one pooled connection, usable as a Swift `TaskExecutor`.
///
/// Every libpq call on the connection runs on this thread, which is never a thread of Swift's
/// cooperative pool. ``PostgresClient/withConnection(isolation:_:)`` runs its body with this
/// executor as the task's preference, so the body's nonisolated code, and the connection's query
/// methods it awaits, already run here: a query then calls libpq synchronously, without the two
/// thread hops (to a worker and back) that a call from the cooperative pool costs. A call made from
/// any other thread (an actor-isolated body, a task that kept the connection) submits the work to
/// this thread with ``submit(_:)`` and waits for it.
///
/// The thread is a one-thread `NIOThreadPool`. After ``shutdown()`` it takes no more libpq work
/// (``submit(_:)`` throws), and task jobs still enqueued here move to the global concurrent executor,
/// so that no task is stranded.
final class PostgresConnectionExecutor: TaskExecutor, Sendable {
    private let thread = NIOThreadPool(numberOfThreads: 1)
    /// The thread's id once it has run something: 0 before, `UInt.max` after ``shutdown()``.
    private let threadID = Atomic<UInt>(0)

    init() {
        self.thread.start()
    }

    /// Whether the caller runs on this executor's thread, where libpq may be called directly.
    var isCurrent: Bool {
        self.threadID.load(ordering: .acquiring) == currentThreadID()
    }

    /// Runs a task's job on the thread, with this executor as its task executor.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.thread.submit { state in
            guard case .active = state else {
                globalConcurrentExecutor.enqueue(job)
                return
            }
            self.recordThread()
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }

    /// Runs `body` on the thread and waits for it, from any thread but this one.
    ///
    /// - Throws: what `body` throws; ``PostgresError/Code/poolClosed`` after ``shutdown()``.
    func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { continuation in
            self.thread.submit { state in
                guard case .active = state else {
                    continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the client is closed"))
                    return
                }
                self.recordThread()
                continuation.resume(with: Result(catching: body))
            }
        }
    }

    /// Stops the thread once the work it is running returns; safe to call from the thread itself.
    func shutdown() {
        self.threadID.store(.max, ordering: .releasing)
        self.thread.shutdownGracefully { _ in }
    }

    /// Learns the thread's id from the first work it runs (the pool's one thread runs all of it).
    private func recordThread() {
        guard self.threadID.load(ordering: .relaxed) == 0 else { return }
        _ = self.threadID.compareExchange(expected: 0, desired: currentThreadID(), ordering: .acquiringAndReleasing)
    }
}

/// `pthread_self()` as a number, on both Linux (where it is one) and Darwin (a pointer).
private func currentThreadID() -> UInt {
    #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
    #else
    UInt(pthread_self())
    #endif
}
