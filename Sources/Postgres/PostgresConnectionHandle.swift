import CLibPQ
import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one libpq `PGconn` and runs every libpq call on it on the connection's own thread
/// (``executor``).
///
/// `@unchecked Sendable` is safe because a `PGconn` is only ever touched by one thread at a time:
/// every access to `connection` (and to the cached `broken` / `transactionStatus` copies) happens
/// inside `lock`, and every libpq call on it runs on the connection's dedicated thread, never on
/// Swift's cooperative pool: directly when the caller already runs there (the executor preference
/// that `withConnection` sets), otherwise submitted to it. The pool leases a connection to one
/// borrower at a time and a borrower awaits each call, so the lock is uncontended in normal use; it
/// only serialises misuse (two tasks sharing one leased connection). The `PGcancel` object is
/// separate state under `cancelLock`, because `PQcancel` is made to be called while another thread
/// is blocked in a query on the connection; it runs on the client's cancel thread.
final class PostgresConnectionHandle: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var connection: OpaquePointer?
    private var broken = false
    private var transactionStatus = PQTRANS_IDLE
    private var needsValidation = false
    private var discardRequested = false

    private let cancelLock = Mutex<Void>(())
    private var cancelHandle: OpaquePointer?
    /// The cancellable job running now (0: none) and the last one whose task was cancelled.
    private let runningJob = Atomic<Int>(0)
    private let cancelledJob = Atomic<Int>(0)
    private let nextJobID = Atomic<Int>(1)

    /// The statements prepared in this session; used only by jobs, on the connection's thread.
    let preparedStatements = PreparedStatements()
    /// The connection's own thread, where every libpq call on it runs.
    let executor: PostgresConnectionExecutor
    /// The client's thread for cancel requests (`PQcancel` blocks while it connects).
    let cancelThreadPool: NIOThreadPool
    /// Receives the server's notices and connection events.
    let logger: Logger

    private init(
        connection: OpaquePointer,
        executor: PostgresConnectionExecutor,
        cancelThreadPool: NIOThreadPool,
        logger: Logger
    ) {
        self.connection = connection
        self.executor = executor
        self.cancelThreadPool = cancelThreadPool
        self.logger = logger
        self.cancelHandle = PQgetCancel(connection)
        PQsetNoticeReceiver(connection, postgresNoticeReceiver, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        assert(self.connection == nil, "PostgresConnectionHandle released without close()")
    }

    // MARK: Running jobs on the connection's thread

    /// Opens a connection on a new dedicated thread; `PQconnectdbParams` blocks, so it runs there.
    static func connect(
        configuration: PostgresConfiguration,
        cancelThreadPool: NIOThreadPool,
        logger: Logger
    ) async throws -> PostgresConnectionHandle {
        let executor = PostgresConnectionExecutor()
        do {
            return try await executor.submit {
                let connection = try Self.openConnection(configuration)
                return PostgresConnectionHandle(
                    connection: connection,
                    executor: executor,
                    cancelThreadPool: cancelThreadPool,
                    logger: logger
                )
            }
        } catch {
            executor.shutdown()
            throw error
        }
    }

    /// Runs `body` with the `PGconn` on the connection's thread, holding the connection's lock.
    ///
    /// On that thread already (the body of `withConnection`), `body` runs synchronously in the
    /// calling task; anywhere else it is submitted to the thread and awaited. With `cancellable`,
    /// cancelling the calling task sends a cancel request to the server (`PQcancel`) for this job,
    /// and the job then throws `CancellationError`. Clean-up work (`ROLLBACK`, `COMMIT`, closing)
    /// passes `false`, so that it still runs in a cancelled task.
    func run<T: Sendable>(
        cancellable: Bool,
        _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        guard cancellable else {
            return try await self.onConnectionThread(job: 0, body)
        }
        let job = self.nextJobID.add(1, ordering: .relaxed).oldValue
        return try await withTaskCancellationHandler {
            try await self.onConnectionThread(job: job, body)
        } onCancel: {
            self.requestCancel(job: job)
        }
    }

    /// Performs `job` right here when this is the connection's thread, otherwise hops there.
    private func onConnectionThread<T: Sendable>(
        job: Int,
        _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        if self.executor.isCurrent {
            return try self.perform(job: job, body)
        }
        return try await self.executor.submit { try self.perform(job: job, body) }
    }

    private func perform<T>(job: Int, _ body: (OpaquePointer) throws -> T) throws -> T {
        precondition(self.executor.isCurrent, "libpq called off the connection's thread")
        return try self.lock.withLock { _ in
            guard let connection = self.connection else {
                throw PostgresError(code: .connectionLost, message: "the connection is closed")
            }
            defer {
                self.broken = PQstatus(connection) == CONNECTION_BAD
                self.transactionStatus = PQtransactionStatus(connection)
            }
            if self.needsValidation {
                self.needsValidation = false
                try self.validate(connection)
            }
            guard job != 0 else {
                return try body(connection)
            }
            self.runningJob.store(job, ordering: .sequentiallyConsistent)
            defer { self.runningJob.store(0, ordering: .sequentiallyConsistent) }
            if self.cancelledJob.load(ordering: .sequentiallyConsistent) == job {
                throw CancellationError()
            }
            do {
                return try body(connection)
            } catch let error as PostgresError
                where error.sqlState == "57014" && self.cancelledJob.load(ordering: .relaxed) == job
            {
                throw CancellationError()
            }
        }
    }

    /// How many times a cancel request is sent again, ``cancelRepeatInterval`` apart, while its job runs on.
    static let cancelRepeats = 25
    /// The wait between two cancel requests for the same job.
    static let cancelRepeatInterval: Duration = .milliseconds(200)

    /// Cancels job `job`: before it starts, it throws at once; while it runs, the server is asked
    /// to cancel its statement, again every ``cancelRepeatInterval`` while the job runs on (at
    /// most ``cancelRepeats`` times): a request that arrived between two statements of the job,
    /// or before its statement was sent, cancelled nothing.
    private func requestCancel(job: Int, repeat attempt: Int = 0) {
        self.cancelledJob.store(job, ordering: .sequentiallyConsistent)
        guard self.runningJob.load(ordering: .sequentiallyConsistent) == job else {
            return
        }
        if attempt < Self.cancelRepeats {
            Task {
                try? await Task.sleep(for: Self.cancelRepeatInterval)
                self.requestCancel(job: job, repeat: attempt + 1)
            }
        }
        // PQcancel opens a connection to the server and waits for it: not on the cooperative pool.
        self.cancelThreadPool.submit { state in
            guard case .active = state else { return }
            self.cancelLock.withLock { _ in
                guard let cancelHandle = self.cancelHandle, self.runningJob.load(ordering: .relaxed) == job else {
                    return
                }
                withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { errorBuffer in
                    errorBuffer.initialize(repeating: 0)
                    if PQcancel(cancelHandle, errorBuffer.baseAddress, Int32(errorBuffer.count)) == 0 {
                        let message = errorBuffer.baseAddress.map { String(cString: $0) }?.trimmingTrailingWhitespace() ?? ""
                        self.logger.debug("PostgreSQL cancel request failed", metadata: ["db.error": "\(message)"])
                    }
                }
            }
        }
    }

    // MARK: Pool bookkeeping

    /// What the pool needs to know when the connection comes back: broken (discard), and whether a
    /// transaction is still open. Reads values cached by the last job; calls no libpq function.
    var leaseState: (discard: Bool, transaction: PGTransactionStatusType) {
        self.lock.withLock { _ in
            (self.broken || self.discardRequested || self.connection == nil, self.transactionStatus)
        }
    }

    /// Asks the pool to close this connection instead of reusing it (for example after a session
    /// setting or an advisory lock could not be undone).
    func requestDiscard() {
        self.lock.withLock { _ in self.discardRequested = true }
    }

    /// Marks the connection as idle in the pool: the next job first checks that the server has
    /// not closed it meanwhile.
    func markIdle() {
        self.lock.withLock { _ in self.needsValidation = true }
    }

    /// Closes the connection (`PQfinish`) on its thread, then stops the thread. Idempotent.
    func close() async {
        do {
            try await self.executor.submit { self.finish() }
        } catch {
            // The thread is gone; PQfinish only sends a Terminate message and frees memory.
            self.finish()
        }
        self.executor.shutdown()
    }

    private func finish() {
        self.cancelLock.withLock { _ in
            if let cancelHandle = self.cancelHandle {
                PQfreeCancel(cancelHandle)
                self.cancelHandle = nil
            }
        }
        self.lock.withLock { _ in
            if let connection = self.connection {
                PQfinish(connection)
                self.connection = nil
            }
        }
    }

    /// Detects a pooled connection the server closed while it sat idle, and reconnects it in place.
    ///
    /// Reconnecting is safe only here, before the borrower ran anything on it: no session state of
    /// the lease can be lost. A readable socket on an idle connection means end-of-file or an
    /// asynchronous message (a FATAL at server shutdown, a notification); `PQconsumeInput` reads it
    /// without blocking and updates the status.
    private func validate(_ connection: OpaquePointer) throws {
        if PQstatus(connection) == CONNECTION_OK {
            var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            // A shutting-down server sends a FATAL and then closes: read until nothing is left, so
            // that the end-of-file is seen too. A few rounds are plenty for an idle connection.
            for _ in 0..<8 {
                let ready = poll(&descriptor, 1, 0)
                if ready == 0 {
                    while let notification = PQnotifies(connection) {
                        PQfreemem(notification)
                    }
                    return
                }
                if ready < 0 || PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
                    break
                }
            }
        }
        self.logger.debug("PostgreSQL connection was closed while idle, reconnecting")
        PQreset(connection)
        self.preparedStatements.removeAll()
        self.cancelLock.withLock { _ in
            if let cancelHandle = self.cancelHandle {
                PQfreeCancel(cancelHandle)
            }
            self.cancelHandle = PQgetCancel(connection)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(code: .connectionFailed, message: Self.errorMessage(connection))
        }
    }

    // MARK: Notices

    fileprivate func logNotice(_ result: OpaquePointer) {
        let severity = PQresultErrorField(result, PostgresDiagnostic.severity).map { String(cString: $0) }
        let level: Logger.Level = severity == "WARNING" ? .notice : .debug
        guard self.logger.logLevel <= level else { return }
        self.logger.log(
            level: level,
            "PostgreSQL notice",
            metadata: [
                "db.severity": "\(severity ?? "")",
                "db.sqlstate": "\(PQresultErrorField(result, PostgresDiagnostic.sqlState).map { String(cString: $0) } ?? "")",
                "db.message": "\(PQresultErrorField(result, PostgresDiagnostic.primaryMessage).map { String(cString: $0) } ?? "")",
            ]
        )
    }
}

/// Routes libpq's notices to the connection's logger instead of libpq's default, which prints
/// to stderr. `argument` is the unretained handle, which outlives its `PGconn`.
private let postgresNoticeReceiver: PQnoticeReceiver = { argument, result in
    guard let argument, let result else { return }
    Unmanaged<PostgresConnectionHandle>.fromOpaque(argument).takeUnretainedValue().logNotice(result)
}

/// The `PG_DIAG_*` field codes (C character macros, which Swift does not import).
enum PostgresDiagnostic {
    static let severity = Int32(UInt8(ascii: "V"))
    static let sqlState = Int32(UInt8(ascii: "C"))
    static let primaryMessage = Int32(UInt8(ascii: "M"))
    static let detail = Int32(UInt8(ascii: "D"))
    static let constraint = Int32(UInt8(ascii: "n"))
}
