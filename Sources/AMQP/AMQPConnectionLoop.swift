import CAMQPShim
import CRabbitMQ
import Foundation
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something that happened on a consuming channel, in order.
enum AMQPConsumerEvent: Sendable {
    /// A message arrived.
    case delivery(AMQPDelivery)
    /// The channel or connection is gone; no more deliveries will come.
    case closed(AMQPError)
}

/// The dedicated thread of one ``AMQPConnection``, and everything that thread owns.
///
/// The thread runs a loop: it runs the commands that tasks queued (declare, ack, get, ...),
/// sends queued publishes while fewer than `confirmWindow` await their confirm, then waits in
/// `poll(2)` for the socket or for a wake-up byte on a pipe (written when a command is queued),
/// reads every complete frame and dispatches it (confirms, deliveries, channel or connection
/// close). The poll timeout is short enough that rabbitmq-c sends heartbeats and notices a
/// silent peer. Results go back through continuations. Which published message each confirm
/// settles is ``ConfirmWindow``'s bookkeeping; the loop does its I/O.
///
/// `@unchecked Sendable`: the properties marked "thread-confined" are touched only by the
/// loop's own thread (commands reach them by running on it); everything other threads touch
/// is inside ``shared``, a `Mutex`, or immutable.
final class AMQPConnectionLoop: @unchecked Sendable {
    /// A unit of work for the loop's thread; `fail` is called instead of `run` if the loop ends first.
    struct Command: Sendable {
        var run: @Sendable (AMQPConnectionLoop) -> Void
        var fail: @Sendable (AMQPError) -> Void
    }

    private enum Lifecycle {
        case starting, open
        case closed(AMQPError?)
    }

    private struct Shared {
        var lifecycle: Lifecycle = .starting
        var commands: [Command] = []
        var wakePending = false
        var closeRequested = false
        var blocked = false
        var closeWaiters: [CheckedContinuation<AMQPError?, Never>] = []
    }

    /// A `publish([AMQPMessage])` call: its messages, how far it got, and its continuation, which
    /// gets the positions of the nacked messages (when a nack does not fail the call).
    private final class PublishBatch {
        let messages: [AMQPMessage]
        /// Sent only with nothing else in flight, and nothing else sent until it is settled.
        let alone: Bool
        /// A nack settles its message as refused instead of failing the call.
        let collectsNacks: Bool
        var nacked: [Int] = []
        var nextIndex = 0
        var unconfirmed = 0
        var continuation: CheckedContinuation<[Int], any Error>?

        init(messages: [AMQPMessage], alone: Bool, collectsNacks: Bool, continuation: CheckedContinuation<[Int], any Error>) {
            self.messages = messages
            self.alone = alone
            self.collectsNacks = collectsNacks
            self.continuation = continuation
        }

        var isFinished: Bool { continuation == nil }
        var allSent: Bool { nextIndex == messages.count }

        func finish(_ result: Result<[Int], AMQPError>) {
            continuation?.resume(with: result.mapError { $0 as any Error })
            continuation = nil
        }
    }

    /// A published message awaiting its confirm: its batch and its position there.
    private struct Pending {
        var batch: PublishBatch
        var index: Int

        var message: AMQPMessage { batch.messages[index] }
    }

    let configuration: AMQPConfiguration
    /// The node this connection goes to.
    let endpoint: AMQPConfiguration.Endpoint
    let logger: Logger
    private let shared = Mutex(Shared())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    // Thread-confined state.
    private let handle: AMQPConnectionHandle
    private var publishQueue = CircularBuffer<PublishBatch>()
    /// The batch published alone that is in flight: nothing else is sent until it is settled.
    private var aloneInFlight: PublishBatch?
    private var confirms = ConfirmWindow<Pending>(initialCapacity: 256)
    private var lastConfirmProgress = ContinuousClock.now
    private var consumer: AsyncStream<AMQPConsumerEvent>.Continuation?
    /// Whether the broker blocks this connection; ``isBlocked`` is its copy for other threads.
    private var blockedByBroker = false
    /// Increases whenever channel 1 is reopened; deliveries remember theirs so an ack never reaches a newer channel.
    private(set) var channelGeneration: UInt64 = 0

    /// Prepares a connection to `endpoint` (one of the configuration's); ``start()`` connects.
    init(configuration: AMQPConfiguration, endpoint: AMQPConfiguration.Endpoint, logger: Logger) throws {
        self.configuration = configuration
        self.endpoint = endpoint
        var logger = logger
        logger[metadataKey: "amqp.endpoint"] = "\(configuration.description(of: endpoint))"
        self.logger = logger
        self.handle = AMQPConnectionHandle(configuration: configuration, endpoint: endpoint, logger: logger)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw AMQPError(.protocolError, "pipe() failed: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    // MARK: Any thread

    /// Starts the thread, which connects; returns once the connection and channel are open.
    func start() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                threadMain(started: continuation)
            }
            thread.name = "amqp-connection"
            thread.start()
        }
    }

    /// Whether the connection is open (false while starting and after it closed or failed).
    var isOpen: Bool {
        shared.withLock { if case .open = $0.lifecycle { true } else { false } }
    }

    /// Queues a command for the thread; fails it at once if the loop has ended.
    func submit(_ command: Command) {
        let rejection: AMQPError? = shared.withLock { shared in
            switch shared.lifecycle {
            case .closed(let reason):
                return reason ?? AMQPError(.connectionClosed, "the connection was closed")
            case .starting, .open:
                if shared.closeRequested { return AMQPError(.connectionClosed, "the connection is closing") }
                shared.commands.append(command)
                wakeLocked(&shared)
                return nil
            }
        }
        if let rejection { command.fail(rejection) }
    }

    /// Runs `body` on the loop's thread and returns its result.
    func execute<T: Sendable>(_ body: @escaping @Sendable (AMQPConnectionLoop) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(
                Command(
                    run: { loop in continuation.resume(with: Result { try body(loop) }) },
                    fail: { continuation.resume(throwing: $0) }
                ))
        }
    }

    /// Publishes the messages pipelined within the confirm window; returns when all are confirmed.
    /// `alone`: with nothing else in flight (see ``AMQPConnection/publishAlone(_:)``).
    /// `collectingNacks`: a nack does not fail the call, which returns the nacked positions instead.
    @discardableResult
    func publish(_ messages: [AMQPMessage], alone: Bool = false, collectingNacks: Bool = false) async throws -> [Int] {
        guard !messages.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Int], any Error>) in
            submit(
                Command(
                    run: { loop in
                        loop.enqueue(PublishBatch(messages: messages, alone: alone, collectsNacks: collectingNacks, continuation: continuation))
                    },
                    fail: { continuation.resume(throwing: $0) }
                ))
        }
    }

    /// Whether the broker has blocked the connection (connection.blocked: a memory or disk alarm);
    /// publishes fail with ``AMQPError/Code/blocked`` until it unblocks it.
    var isBlocked: Bool {
        shared.withLock { $0.blocked }
    }

    /// Whether ``requestClose()`` was called.
    var closeWasRequested: Bool {
        shared.withLock { $0.closeRequested }
    }

    /// Asks the thread to close the connection (with the AMQP close handshake) and end; does not wait.
    func requestClose() {
        shared.withLock { shared in
            guard case .closed = shared.lifecycle else {
                shared.closeRequested = true
                wakeLocked(&shared)
                return
            }
        }
    }

    /// Waits until the loop has ended; returns why (`nil` after ``requestClose()``).
    func waitUntilClosed() async -> AMQPError? {
        await withCheckedContinuation { (continuation: CheckedContinuation<AMQPError?, Never>) in
            let done: AMQPError?? = shared.withLock { shared in
                if case .closed(let reason) = shared.lifecycle { return .some(reason) }
                shared.closeWaiters.append(continuation)
                return .none
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Writes the wake-up byte unless one is pending; called with the lock held, so never after the pipe closed.
    private func wakeLocked(_ shared: inout Shared) {
        guard !shared.wakePending else { return }
        shared.wakePending = true
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: The loop's thread

    private func threadMain(started: CheckedContinuation<Void, any Error>) {
        do {
            try handle.open()
        } catch {
            let reason = error as? AMQPError ?? AMQPError(.protocolError, "\(error)")
            finish(reason)
            started.resume(throwing: reason)
            return
        }
        shared.withLock { $0.lifecycle = .open }
        logger.debug("AMQP connection open")
        started.resume()

        var reason: AMQPError?
        do {
            try runLoop()
        } catch let error as AMQPError {
            reason = error
        } catch {
            reason = AMQPError(.protocolError, "\(error)")
        }
        if let reason {
            logger.warning("AMQP connection lost", metadata: ["amqp.error": "\(reason)"])
        } else {
            logger.debug("AMQP connection closed")
        }
        finish(reason)
    }

    private func runLoop() throws {
        let tick = heartbeatTick()
        var lastServiced = ContinuousClock.now
        while true {
            for command in takeCommands() {
                command.run(self)
                try afterOperation()
            }
            if shared.withLock({ $0.closeRequested }) { return }
            try pumpPublishes()

            var socketReady = true
            if !handle.hasBufferedInput {
                var timeout = tick
                if !confirms.isEmpty {
                    timeout = min(timeout, max(.zero, lastConfirmProgress + configuration.confirmTimeout - .now))
                }
                socketReady = waitForInput(timeout: timeout)
            }
            let now = ContinuousClock.now
            if socketReady || now - lastServiced >= tick {
                lastServiced = now
                // Read what arrived; stop when rabbitmq-c holds nothing more rather than asking
                // the socket again (that would cost a recv and a poll that find nothing).
                var frames = 0
                repeat {
                    guard let frame = try handle.nextFrame() else { break }
                    try dispatch(frame)
                    try afterOperation()
                    frames += 1
                } while frames < 1024 && handle.hasBufferedInput
                handle.releaseBuffers()
            }
            try checkConfirmTimeout()
        }
    }

    /// How often the loop calls into rabbitmq-c even when idle, so it sends heartbeats and notices a silent peer.
    private func heartbeatTick() -> Duration {
        let heartbeat = configuration.heartbeat
        return heartbeat > .zero ? min(.seconds(1), heartbeat / 4) : .seconds(1)
    }

    /// Waits in `poll` for the socket or the wake-up pipe; returns whether the socket is readable.
    private func waitForInput(timeout: Duration) -> Bool {
        var fds = [
            pollfd(fd: handle.socketDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        let milliseconds = Int32(clamping: Int((timeout.seconds * 1000).rounded(.up)))
        let result = poll(&fds, 2, milliseconds)
        guard result > 0 else { return false }
        if fds[1].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(wakeRead, &buffer, buffer.count) > 0 {}
        }
        // Errors and hang-ups count as readable: rabbitmq-c then reports what happened.
        return fds[0].revents != 0
    }

    private func takeCommands() -> [Command] {
        shared.withLock { shared in
            shared.wakePending = false
            let commands = shared.commands
            shared.commands.removeAll(keepingCapacity: true)
            return commands
        }
    }

    /// After every command and frame: stop on a broken connection, recover from a closed channel.
    private func afterOperation() throws {
        if let reason = handle.brokenReason { throw reason }
        if let channelError = handle.channelCloseError {
            logger.warning("AMQP channel closed by the broker", metadata: ["amqp.error": "\(channelError)"])
            try reopenClosedChannel()
        }
    }

    /// After the broker closed channel 1: fails what depended on it and opens it again.
    /// Commands that expect a channel error (a declare refused for lack of permission) call it themselves.
    func reopenClosedChannel() throws {
        guard let channelError = handle.channelCloseError else { return }
        failPublishes(channelError, channelClosed: true)
        if let consumer {
            consumer.yield(.closed(channelError))
            consumer.finish()
            self.consumer = nil
        }
        channelGeneration += 1
        try handle.openChannel()
    }

    // MARK: Publishing

    private func enqueue(_ batch: PublishBatch) {
        publishQueue.append(batch)
    }

    private static let blockedError = AMQPError(.blocked, "the broker blocked publishing (connection.blocked: a memory or disk alarm)")

    private func pumpPublishes() throws {
        if blockedByBroker {
            // Nothing sent would be read; fail what waits, so the caller retries later instead of holding on.
            // (What was in flight when the broker blocked us was failed then.)
            failPublishes(Self.blockedError)
            return
        }
        let window = max(1, configuration.confirmWindow)
        if let alone = aloneInFlight {
            guard alone.isFinished else { return }
            aloneInFlight = nil
        }
        while confirms.count < window, let batch = publishQueue.first {
            if batch.isFinished || batch.allSent {
                publishQueue.removeFirst()
                if batch.alone && !batch.isFinished { return }
                continue
            }
            if batch.alone {
                // Starts once everything before it is settled; nothing follows it until it is.
                if batch.nextIndex == 0 && !confirms.isEmpty { return }
                aloneInFlight = batch
            }
            try handle.publish(batch.messages[batch.nextIndex])
            if confirms.isEmpty { lastConfirmProgress = .now }
            confirms.sent(Pending(batch: batch, index: batch.nextIndex))
            batch.nextIndex += 1
            batch.unconfirmed += 1
        }
    }

    /// Handles basic.ack / basic.nack from the broker for published messages.
    private func confirm(tag: UInt64, multiple: Bool, nacked: Bool) {
        lastConfirmProgress = .now
        confirms.confirm(tag: tag, multiple: multiple, nacked: nacked) { pending, resolution in
            settle(pending, resolution)
        }
    }

    private func settle(_ pending: Pending, _ resolution: ConfirmWindow<Pending>.Resolution) {
        let batch = pending.batch
        batch.unconfirmed -= 1
        switch resolution {
        case .acked:
            if batch.allSent && batch.unconfirmed == 0 { batch.finish(.success(batch.nacked)) }
        case .nacked where batch.collectsNacks:
            batch.nacked.append(pending.index)
            if batch.allSent && batch.unconfirmed == 0 { batch.finish(.success(batch.nacked)) }
        case .nacked:
            batch.finish(.failure(AMQPError(.nacked, "the broker nacked a published message (basic.nack); it may not have been routed or stored")))
        case .returned:
            break  // Its batch failed when the message came back.
        }
    }

    /// A mandatory message came back unroutable (its confirm follows): fail its batch. The message is
    /// found by its `message_id`, else by exchange and routing key, among those awaiting a confirm.
    private func returnedUnroutable(exchange: String, routingKey: String, messageID: String?, reason: String) {
        let pending = confirms.returned { pending in
            let message = pending.message
            guard message.exchange == exchange, message.routingKey == routingKey else { return false }
            return messageID == nil || message.properties.messageID == messageID
        }
        logger.warning(
            "AMQP message returned as unroutable",
            metadata: ["amqp.exchange": "\(exchange)", "amqp.message_id": "\(messageID ?? "")", "amqp.reply": "\(reason)"])
        pending?.batch.finish(
            .failure(AMQPError(.unroutable, "no queue is bound to exchange '\(exchange)' for routing key '\(routingKey)' (\(reason))")))
    }

    private func checkConfirmTimeout() throws {
        guard !confirms.isEmpty, ContinuousClock.now - lastConfirmProgress > configuration.confirmTimeout else { return }
        throw AMQPError(.timeout, "no publisher confirm arrived within \(configuration.confirmTimeout) (\(confirms.count) messages unconfirmed)")
    }

    /// Fails every publish call that waits: those awaiting confirms and those not sent yet. When
    /// the channel closed, the next one numbers its messages from 1 again, and the calls that had
    /// sent nothing yet stay queued for it: the close was not theirs.
    private func failPublishes(_ error: AMQPError, channelClosed: Bool = false) {
        if channelClosed {
            confirms.channelClosed { $0.batch.finish(.failure(error)) }
        } else {
            confirms.abandonAll { $0.batch.finish(.failure(error)) }
        }
        for batch in publishQueue where !channelClosed || batch.nextIndex > 0 { batch.finish(.failure(error)) }
        publishQueue.removeAll { $0.isFinished }
    }

    // MARK: Consuming and frames

    /// Starts consuming `queue` on this connection (qos + basic.consume); deliveries and the final close arrive on the stream.
    func startConsuming(queue: String, prefetch: Int) throws -> AsyncStream<AMQPConsumerEvent> {
        guard consumer == nil else {
            throw AMQPError(.invalidConfiguration, "this connection already has a consumer (one consumer per AMQPConnection)")
        }
        try handle.qos(prefetch: prefetch)
        let (stream, continuation) = AsyncStream<AMQPConsumerEvent>.makeStream()
        consumer = continuation
        let tag = try handle.consume(queue: queue)
        logger.debug("AMQP consumer started", metadata: ["amqp.queue": "\(queue)", "amqp.consumer_tag": "\(tag)"])
        return stream
    }

    private func dispatch(_ frame: amqp_frame_t) throws {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else {
            throw AMQPError(.protocolError, "unexpected content frame of type \(frame.frame_type) outside a message on channel \(frame.channel)")
        }
        let method = frame.payload.method
        switch method.id {
        case CAMQP_BASIC_ACK_METHOD:
            let ack = try decoded(method, as: amqp_basic_ack_t.self)
            confirm(tag: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
        case CAMQP_BASIC_NACK_METHOD:
            let nack = try decoded(method, as: amqp_basic_nack_t.self)
            confirm(tag: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
        case CAMQP_BASIC_DELIVER_METHOD:
            let deliver = try decoded(method, as: amqp_basic_deliver_t.self)
            let exchange = deliver.exchange.string
            let routingKey = deliver.routing_key.string
            let (body, properties) = try handle.readContent(context: "basic.deliver")
            let raw = AMQPRawDelivery(
                exchange: exchange, routingKey: routingKey, deliveryTag: deliver.delivery_tag, redelivered: deliver.redelivered != 0, body: body,
                properties: properties)
            if let consumer {
                consumer.yield(.delivery(AMQPDelivery(raw, loop: self, generation: channelGeneration)))
            } else {
                logger.warning(
                    "AMQP delivery without a consumer dropped; the broker redelivers it after the connection closes",
                    metadata: ["amqp.exchange": "\(exchange)"])
            }
        case CAMQP_BASIC_RETURN_METHOD:
            let returned = try decoded(method, as: amqp_basic_return_t.self)
            let (_, properties) = try handle.readContent(context: "basic.return")
            returnedUnroutable(
                exchange: returned.exchange.string, routingKey: returned.routing_key.string, messageID: properties.messageID,
                reason: "\(returned.reply_code) \(returned.reply_text.string)")
        case CAMQP_CHANNEL_CLOSE_METHOD, CAMQP_CONNECTION_CLOSE_METHOD:
            _ = handle.acceptServerClose(method, context: "broker request")
        case CAMQP_BASIC_CANCEL_METHOD:
            let error = AMQPError(.channelClosed, "the broker cancelled the consumer (was the queue deleted?)")
            consumer?.yield(.closed(error))
            consumer?.finish()
            consumer = nil
        case CAMQP_CONNECTION_BLOCKED_METHOD:
            logger.warning("AMQP connection blocked by the broker (resource alarm)")
            blockedByBroker = true
            shared.withLock { $0.blocked = true }
            // The broker reads nothing more from this connection until the alarm clears: fail what
            // waits for a confirm now (the caller publishes it again later; consumers deduplicate)
            // instead of holding its caller until the confirm timeout. The connection stays open.
            failPublishes(Self.blockedError)
        case CAMQP_CONNECTION_UNBLOCKED_METHOD:
            logger.info("AMQP connection unblocked by the broker")
            blockedByBroker = false
            shared.withLock { $0.blocked = false }
        default:
            logger.debug("AMQP frame ignored", metadata: ["amqp.method": "\(method.id)", "amqp.channel": "\(frame.channel)"])
        }
    }

    private func decoded<T>(_ method: amqp_method_t, as type: T.Type) throws -> T {
        guard let pointer = method.decoded else {
            throw AMQPError(.protocolError, "method 0x\(String(method.id, radix: 16)) without arguments")
        }
        return pointer.assumingMemoryBound(to: type).pointee
    }

    // MARK: Acknowledgements (run on the thread via commands)

    /// Checks that a delivery's channel is still the current one.
    func checkGeneration(_ generation: UInt64) throws {
        if let reason = handle.brokenReason { throw reason }
        guard generation == channelGeneration else {
            throw AMQPError(.channelClosed, "the delivery's channel was closed; the broker redelivers the message")
        }
    }

    /// The handle, for commands running on this thread.
    var connectionHandle: AMQPConnectionHandle { handle }

    // MARK: Ending

    /// Ends the connection: closes or frees the C side, marks the loop closed (so ``isOpen`` is
    /// false before anyone is resumed), then fails everything still waiting.
    private func finish(_ reason: AMQPError?) {
        let error = reason ?? AMQPError(.connectionClosed, "the connection was closed")
        if reason == nil {
            handle.close()
        } else {
            handle.markBroken(error)
            handle.destroy()
        }
        let (commands, waiters) = shared.withLock { shared in
            shared.lifecycle = .closed(reason)
            let result = (shared.commands, shared.closeWaiters)
            shared.commands = []
            shared.closeWaiters = []
            return result
        }
        failPublishes(error)
        if let consumer {
            consumer.yield(.closed(error))
            consumer.finish()
            self.consumer = nil
        }
        for command in commands { command.fail(error) }
        for waiter in waiters { waiter.resume(returning: reason) }
    }
}
