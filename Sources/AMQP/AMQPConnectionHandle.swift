import CAMQPShim
import CRabbitMQ
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A message that arrived with basic.deliver or basic.get-ok, copied out of C memory.
struct AMQPRawDelivery: Sendable {
    var exchange: String
    var routingKey: String
    var deliveryTag: UInt64
    var redelivered: Bool
    var body: [UInt8]
    var properties: AMQPProperties
}

/// Owns one rabbitmq-c connection (`amqp_connection_state_t`) with its single channel, and
/// wraps every C call in a throwing Swift method that checks the return code or `amqp_rpc_reply_t`.
///
/// rabbitmq-c connections are not thread-safe, and every method here blocks on the socket.
/// The type is `@unchecked Sendable` only so that it can be handed to the dedicated thread of
/// its ``AMQPConnectionLoop`` when that thread starts: from then on it is created, used and
/// destroyed by that one thread alone. No other thread keeps a reference to it; they ask the
/// loop to run work on its thread instead. So there is exactly one owner thread for the whole
/// life of the C connection, which is what rabbitmq-c requires.
final class AMQPConnectionHandle: @unchecked Sendable {
    /// The one channel this layer uses on each connection.
    static let channel: amqp_channel_t = 1

    let configuration: AMQPConfiguration
    /// The node this connection goes to (one of the configuration's endpoints).
    let endpoint: AMQPConfiguration.Endpoint
    let logger: Logger
    /// Scratch memory for the C structures of one call.
    let scratch = AMQPScratchPool()

    private var state: amqp_connection_state_t?
    /// Whether channel 1 is open (with publisher confirms enabled).
    private(set) var channelOpen = false
    /// Why the connection can no longer be used, once it cannot.
    private(set) var brokenReason: AMQPError?
    /// Set when the broker closed the channel; the loop takes it, fails what depended on the channel and reopens it.
    var channelCloseError: AMQPError?

    init(configuration: AMQPConfiguration, endpoint: AMQPConfiguration.Endpoint, logger: Logger) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.logger = logger
    }

    deinit {
        assert(state == nil, "AMQPConnectionHandle released while its connection is open")
    }

    // MARK: Opening and closing

    /// Connects the socket to ``endpoint``, logs in, opens channel 1 and enables publisher confirms on it.
    ///
    /// - Throws: ``AMQPError`` `.connectionRefused` (nothing listens), `.timeout`,
    ///   `.authenticationFailed` (403 at login), `.accessRefused` (530: unknown vhost or no permission);
    ///   with TLS `.tlsFailed` (the handshake or the verification failed) and `.invalidConfiguration`
    ///   (a CA, certificate or key file that cannot be loaded).
    func open() throws {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.protocolError, "amqp_new_connection failed (out of memory)")
        }
        self.state = state
        let socket = try makeSocket(state)
        var connectTimeout = timeval(configuration.connectTimeout)
        let status = endpoint.host.withCString { amqp_socket_open_noblock(socket, $0, Int32(endpoint.port), &connectTimeout) }
        if let tlsError = tlsError(status) {
            throw tlsError
        } else if status == AMQP_STATUS_TIMEOUT.rawValue {
            throw AMQPError(.timeout, "connecting to \(endpoint) timed out after \(configuration.connectTimeout)")
        } else if status != AMQP_STATUS_OK.rawValue {
            // rabbitmq-c does not keep the connect errno; a socket error here is almost always a refusal.
            let cause = status == AMQP_STATUS_SOCKET_ERROR.rawValue ? "connection refused or host unreachable" : Self.statusText(status)
            throw AMQPError(.connectionRefused, "cannot connect to \(endpoint): \(cause)")
        }
        // A send that cannot proceed (the broker stopped reading: a resource alarm, a dead peer
        // whose window is full) fails after the confirm timeout instead of blocking the thread.
        var sendTimeout = timeval(configuration.confirmTimeout)
        _ = setsockopt(amqp_get_sockfd(state), SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var handshakeTimeout = timeval(configuration.connectTimeout)
        try check(amqp_set_handshake_timeout(state, &handshakeTimeout), "setting the handshake timeout")
        var rpcTimeout = timeval(configuration.rpcTimeout)
        try check(amqp_set_rpc_timeout(state, &rpcTimeout), "setting the RPC timeout")

        let heartbeat = Int32(max(0, configuration.heartbeat.seconds.rounded(.up)))
        let reply = configuration.virtualHost.withCString { vhost in
            configuration.user.withCString { user in
                configuration.password.withCString { password in
                    camqp_login_plain(state, vhost, 0, 131_072, heartbeat, user, password)
                }
            }
        }
        if let error = error(from: reply, context: "login to \(endpoint) as '\(configuration.user)'") {
            throw loginError(error)
        }
        try openChannel()
    }

    /// Opens channel 1 and puts it into confirm mode (delivery tags start at 1 again).
    func openChannel() throws {
        _ = try rpc("channel.open") { amqp_channel_open($0, Self.channel) }
        channelOpen = true
        channelCloseError = nil
        _ = try rpc("confirm.select") { amqp_confirm_select($0, Self.channel) }
    }

    /// Closes channel and connection with the AMQP handshake when the connection still works, then frees everything.
    func close() {
        guard let state else { return }
        if brokenReason == nil {
            if channelOpen {
                let reply = amqp_channel_close(state, Self.channel, Int32(AMQP_REPLY_SUCCESS))
                if let error = error(from: reply, context: "channel.close") {
                    logger.debug("AMQP channel close failed", metadata: ["amqp.error": "\(error)"])
                }
                channelOpen = false
            }
            if brokenReason == nil {
                let reply = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
                if let error = error(from: reply, context: "connection.close") {
                    logger.debug("AMQP connection close failed", metadata: ["amqp.error": "\(error)"])
                }
            }
        }
        destroy()
    }

    /// Frees the connection without any handshake (after it failed).
    func destroy() {
        guard let state else { return }
        let status = amqp_destroy_connection(state)
        if status != AMQP_STATUS_OK.rawValue {
            logger.debug("AMQP connection destroy reported an error", metadata: ["amqp.error": "\(Self.statusText(status))"])
        }
        self.state = nil
        channelOpen = false
    }

    /// Records that the connection is unusable (the first reason wins).
    func markBroken(_ error: AMQPError) {
        if brokenReason == nil { brokenReason = error }
    }

    // MARK: Socket servicing

    /// The socket's file descriptor, for `poll`.
    var socketDescriptor: Int32 {
        guard let state else { return -1 }
        return amqp_get_sockfd(state)
    }

    /// Whether rabbitmq-c already holds unread input (queued frames or buffered bytes), so `poll` must not wait.
    var hasBufferedInput: Bool {
        guard let state else { return false }
        return amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    /// The next complete frame if one can be read without waiting, else `nil`.
    ///
    /// Also lets rabbitmq-c send a heartbeat when one is due and detect a silent peer: the
    /// timeout is 1 µs rather than zero because rabbitmq-c checks the receive-heartbeat
    /// deadline only against a real deadline.
    func nextFrame() throws -> amqp_frame_t? {
        let state = try liveState()
        var frame = amqp_frame_t()
        var timeout = timeval(tv_sec: 0, tv_usec: 1)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try check(status, "reading a frame")
        return frame
    }

    /// Frees the frame memory of all channels when rabbitmq-c holds no unread frames.
    func releaseBuffers() {
        guard let state else { return }
        amqp_maybe_release_buffers(state)
    }

    // MARK: Methods

    /// Declares an exchange.
    func declare(_ exchange: AMQPTopology.Exchange) throws {
        _ = try rpc("exchange.declare '\(exchange.name)'") { state in
            amqp_exchange_declare(
                state, Self.channel, try scratch.bytes(exchange.name), try scratch.bytes(exchange.kind.rawValue), 0, exchange.durable ? 1 : 0, 0, 0,
                amqp_empty_table)
        }
    }

    /// Checks that an exchange exists (passive declare: needs no configure permission; 404 when it does not).
    func declarePassively(_ exchange: AMQPTopology.Exchange) throws {
        _ = try rpc("exchange.declare (passive) '\(exchange.name)'") { state in
            amqp_exchange_declare(
                state, Self.channel, try scratch.bytes(exchange.name), try scratch.bytes(exchange.kind.rawValue), 1, 0, 0, 0, amqp_empty_table)
        }
    }

    /// Declares a queue.
    func declare(_ queue: AMQPTopology.Queue) throws {
        _ = try rpc("queue.declare '\(queue.name)'") { state in
            amqp_queue_declare(state, Self.channel, try scratch.bytes(queue.name), 0, queue.durable ? 1 : 0, 0, 0, try scratch.table(queue.arguments))
        }
    }

    /// Binds a queue to an exchange.
    func declare(_ binding: AMQPTopology.Binding) throws {
        _ = try rpc("queue.bind '\(binding.queue)' to '\(binding.exchange)'") { state in
            amqp_queue_bind(
                state, Self.channel, try scratch.bytes(binding.queue), try scratch.bytes(binding.exchange), try scratch.bytes(binding.routingKey),
                amqp_empty_table)
        }
    }

    /// The ready messages and the consumers of a queue (passive declare; 404 when it does not exist).
    func counts(queue: String) throws -> AMQPQueueCounts {
        let ok = try rpc("queue.declare (passive) '\(queue)'") { state in
            amqp_queue_declare(state, Self.channel, try scratch.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
        }
        return AMQPQueueCounts(messages: Int(ok.message_count), consumers: Int(ok.consumer_count))
    }

    /// Removes all ready messages from a queue; returns how many.
    func purge(queue: String) throws -> Int {
        let ok = try rpc("queue.purge '\(queue)'") { state in
            amqp_queue_purge(state, Self.channel, try scratch.bytes(queue))
        }
        return Int(ok.message_count)
    }

    /// Deletes a queue; returns how many messages it held.
    func delete(queue: String) throws -> Int {
        let ok = try rpc("queue.delete '\(queue)'") { state in
            amqp_queue_delete(state, Self.channel, try scratch.bytes(queue), 0, 0)
        }
        return Int(ok.message_count)
    }

    /// Deletes an exchange.
    func delete(exchange: String) throws {
        _ = try rpc("exchange.delete '\(exchange)'") { state in
            amqp_exchange_delete(state, Self.channel, try scratch.bytes(exchange), 0)
        }
    }

    /// Limits unacknowledged deliveries to `prefetch` on the channel.
    func qos(prefetch: Int) throws {
        _ = try rpc("basic.qos") { state in
            amqp_basic_qos(state, Self.channel, 0, UInt16(clamping: prefetch), 0)
        }
    }

    /// Starts a consumer with manual acknowledgement; returns the consumer tag.
    func consume(queue: String) throws -> String {
        let ok = try rpc("basic.consume '\(queue)'") { state in
            amqp_basic_consume(state, Self.channel, try scratch.bytes(queue), amqp_bytes_t(len: 0, bytes: nil), 0, 0, 0, amqp_empty_table)
        }
        return ok.consumer_tag.string
    }

    /// Publishes one message (the confirm arrives later as a frame).
    func publish(_ message: AMQPMessage) throws {
        let state = try liveState()
        defer { scratch.recycle() }
        let exchange = try scratch.bytes(message.exchange)
        let routingKey = try scratch.bytes(message.routingKey)
        var properties = try scratch.properties(message.properties)
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                state, Self.channel, exchange, routingKey, message.mandatory ? 1 : 0, 0, &properties,
                amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        try check(status, "basic.publish to '\(message.exchange)'")
    }

    /// Acknowledges a delivery (and, with `multiple`, all earlier ones).
    func ack(deliveryTag: UInt64, multiple: Bool) throws {
        try check(amqp_basic_ack(try liveState(), Self.channel, deliveryTag, multiple ? 1 : 0), "basic.ack")
    }

    /// Negatively acknowledges a delivery: requeue it or dead-letter it.
    func nack(deliveryTag: UInt64, multiple: Bool, requeue: Bool) throws {
        try check(amqp_basic_nack(try liveState(), Self.channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0), "basic.nack")
    }

    /// Rejects a delivery: requeue it or dead-letter it.
    func reject(deliveryTag: UInt64, requeue: Bool) throws {
        try check(amqp_basic_reject(try liveState(), Self.channel, deliveryTag, requeue ? 1 : 0), "basic.reject")
    }

    /// Fetches one message from a queue with manual acknowledgement, or `nil` when it is empty.
    func get(queue: String) throws -> AMQPRawDelivery? {
        let state = try liveState()
        defer { scratch.recycle() }
        let reply = amqp_basic_get(state, Self.channel, try scratch.bytes(queue), 0)
        if let error = error(from: reply, context: "basic.get '\(queue)'") { throw error }
        if reply.reply.id == CAMQP_BASIC_GET_EMPTY_METHOD { return nil }
        guard reply.reply.id == CAMQP_BASIC_GET_OK_METHOD, let decoded = reply.reply.decoded else {
            throw AMQPError(.protocolError, "basic.get '\(queue)': unexpected reply method \(reply.reply.id)")
        }
        let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        let exchange = ok.exchange.string
        let routingKey = ok.routing_key.string
        let (body, properties) = try readContent(context: "basic.get '\(queue)'")
        return AMQPRawDelivery(
            exchange: exchange, routingKey: routingKey, deliveryTag: ok.delivery_tag, redelivered: ok.redelivered != 0, body: body,
            properties: properties)
    }

    /// Reads the content header and body frames that follow basic.deliver, basic.get-ok or basic.return.
    func readContent(context: String) throws -> (body: [UInt8], properties: AMQPProperties) {
        let state = try liveState()
        var message = amqp_message_t()
        let reply = amqp_read_message(state, Self.channel, &message, 0)
        if let error = error(from: reply, context: "\(context): reading the message content") { throw error }
        defer { amqp_destroy_message(&message) }
        return (message.body.array, AMQPProperties(message.properties))
    }

    // MARK: Errors

    /// Turns a broker's channel.close or connection.close (from a frame or an RPC reply) into an error,
    /// answering it with close-ok so the broker can release the channel or connection.
    func acceptServerClose(_ method: amqp_method_t, context: String) -> AMQPError {
        guard let state, let decoded = method.decoded else {
            return AMQPError(.protocolError, "\(context): close method without arguments")
        }
        switch method.id {
        case CAMQP_CONNECTION_CLOSE_METHOD:
            let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let error = AMQPError(
                .connectionClosed, "\(context): broker closed the connection: \(close.reply_text.string)", replyCode: Int(close.reply_code))
            var ok = amqp_connection_close_ok_t(dummy: 0)
            let status = amqp_send_method(state, 0, CAMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            if status != AMQP_STATUS_OK.rawValue {
                logger.debug("AMQP connection.close-ok not sent", metadata: ["amqp.error": "\(Self.statusText(status))"])
            }
            markBroken(error)
            return error
        case CAMQP_CHANNEL_CLOSE_METHOD:
            let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(
                .channelClosed, "\(context): broker closed the channel: \(close.reply_text.string)", replyCode: Int(close.reply_code))
            var ok = amqp_channel_close_ok_t(dummy: 0)
            let status = amqp_send_method(state, Self.channel, CAMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            if status != AMQP_STATUS_OK.rawValue {
                markBroken(AMQPError(.connectionClosed, "\(context): sending channel.close-ok failed: \(Self.statusText(status))"))
            }
            channelOpen = false
            channelCloseError = error
            return error
        default:
            return AMQPError(.protocolError, "\(context): unexpected method 0x\(String(method.id, radix: 16))")
        }
    }

    /// The error an RPC reply stands for, or `nil` when it is a normal reply.
    func error(from reply: amqp_rpc_reply_t, context: String) -> AMQPError? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            return acceptServerClose(reply.reply, context: context)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return libraryError(reply.library_error, context: context)
        default:
            return AMQPError(.protocolError, "\(context): rabbitmq-c returned no reply")
        }
    }

    /// The error for a rabbitmq-c status code; marks the connection broken when the status means it is unusable.
    func libraryError(_ status: Int32, context: String) -> AMQPError {
        let text = Self.statusText(status)
        let error: AMQPError
        switch status {
        case AMQP_STATUS_TIMEOUT.rawValue:
            error = AMQPError(.timeout, "\(context): timed out (\(text))")
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue:
            error = AMQPError(.connectionClosed, "\(context): the broker missed its heartbeats; the connection is considered dead")
        case AMQP_STATUS_CONNECTION_CLOSED.rawValue, AMQP_STATUS_SOCKET_ERROR.rawValue, AMQP_STATUS_SOCKET_CLOSED.rawValue:
            error = AMQPError(.connectionClosed, "\(context): connection lost (\(text))")
        case AMQP_STATUS_SSL_ERROR.rawValue:
            error = AMQPError(.connectionClosed, "\(context): TLS error (\(Self.tlsFailureReason() ?? text))")
        case AMQP_STATUS_TABLE_TOO_BIG.rawValue, AMQP_STATUS_INVALID_PARAMETER.rawValue:
            return AMQPError(.protocolError, "\(context): \(text)")
        default:
            error = AMQPError(.protocolError, "\(context): \(text)")
        }
        markBroken(error)
        return error
    }

    /// Throws the error for a non-OK rabbitmq-c status.
    func check(_ status: Int32, _ context: @autoclosure () -> String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw libraryError(status, context: context())
    }

    /// rabbitmq-c's text for a status code.
    static func statusText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    /// Maps a failed login to the distinct codes callers match on: 403 is a refused login,
    /// 530 (NOT_ALLOWED) an unknown vhost or a missing permission.
    private func loginError(_ error: AMQPError) -> AMQPError {
        markBroken(error)
        switch error.replyCode {
        case 403?: return AMQPError(.authenticationFailed, error.message, replyCode: 403)
        case 530?: return AMQPError(.accessRefused, error.message, replyCode: 530)
        default: return error
        }
    }

    /// The live connection state, or the reason it is gone.
    private func liveState() throws -> amqp_connection_state_t {
        if let brokenReason { throw brokenReason }
        guard let state else { throw AMQPError(.connectionClosed, "the connection is closed") }
        return state
    }

    /// Runs a synchronous rabbitmq-c method call and returns its decoded reply, or throws the checked error.
    private func rpc<Reply>(
        _ context: @autoclosure () -> String, _ call: (amqp_connection_state_t) throws -> UnsafeMutablePointer<Reply>?
    ) throws -> Reply {
        let state = try liveState()
        defer { scratch.recycle() }
        let result = try call(state)
        if let error = error(from: amqp_get_rpc_reply(state), context: context()) { throw error }
        guard let result else { throw AMQPError(.protocolError, "\(context()): rabbitmq-c returned no reply") }
        return result.pointee
    }
}

extension timeval {
    /// A `timeval` holding the duration (negative durations become zero).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: max(0, Int(seconds)), tv_usec: max(0, Int(attoseconds / 1_000_000_000_000)))
    }
}
