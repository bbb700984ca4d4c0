import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP forwarder on 127.0.0.1 in front of the broker that stands for one node of a cluster:
/// it forwards any number of client connections, can drop the ones it carries (a node that
/// closes its connections) and can stop (a node that died: new connections are refused).
///
/// Unlike ``FreezableProxy`` it keeps accepting. Each connection has two forwarding threads; a
/// connection's sockets are closed by the last of them to end, so a drop never shuts down a
/// descriptor that was closed and reused.
final class TCPForwarder: Sendable {
    private final class Pair: Sendable {
        let client: Int32
        let upstream: Int32
        let running = Mutex(2)

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }
    }

    private struct State {
        var stopped = false
        var pairs: [ObjectIdentifier: Pair] = [:]
        var accepted = 0
    }

    /// The port it listens on.
    let port: Int
    private let listener: Int32
    private let targetHost: String
    private let targetPort: Int
    private let state = Mutex(State())

    /// Starts forwarding connections to `listenHost` (another loopback address, such as
    /// 127.0.0.2, stands for a host name the broker's certificate does not carry).
    init(listenHost: String = "127.0.0.1", targetHost: String, targetPort: Int) throws {
        self.targetHost = targetHost
        self.targetPort = targetPort
        let (listenSocket, port) = try LoopbackSockets.listen(host: listenHost, backlog: 16)
        listener = listenSocket
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// How many client connections it has accepted so far.
    var accepted: Int { state.withLock { $0.accepted } }

    /// How many connections it carries now.
    var openConnections: Int { state.withLock { $0.pairs.count } }

    /// Closes every connection it carries (both ends see the connection end); goes on accepting.
    func dropConnections() {
        state.withLock { state in
            for pair in state.pairs.values {
                shutdown(pair.client, Int32(SHUT_RDWR))
                shutdown(pair.upstream, Int32(SHUT_RDWR))
            }
        }
    }

    /// Stops accepting (the listening socket closes within 50 ms, then connecting is refused) and
    /// closes every connection it carries.
    func stop() {
        state.withLock { $0.stopped = true }
        dropConnections()
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !state.withLock({ $0.stopped }) {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let (upstream, connected) = LoopbackSockets.connect(host: targetHost, port: targetPort)
            let pair = Pair(client: client, upstream: upstream)
            let admitted = state.withLock { state in
                guard connected, !state.stopped else { return false }
                state.accepted += 1
                state.pairs[ObjectIdentifier(pair)] = pair
                return true
            }
            guard admitted else {
                close(client)
                close(upstream)
                continue
            }
            Thread { [self] in forward(pair, from: client, to: upstream) }.start()
            Thread { [self] in forward(pair, from: upstream, to: client) }.start()
        }
    }

    /// Copies bytes one way until either side ends; then ends the other direction too, and the
    /// second thread to finish closes both sockets.
    private func forward(_ pair: Pair, from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        copying: while true {
            let count = read(source, &buffer, buffer.count)
            if count <= 0 { break }
            var written = 0
            while written < count {
                let result = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
                if result <= 0 { break copying }
                written += result
            }
        }
        state.withLock { state in
            shutdown(pair.client, Int32(SHUT_RDWR))
            shutdown(pair.upstream, Int32(SHUT_RDWR))
            let last = pair.running.withLock { running in
                running -= 1
                return running == 0
            }
            if last {
                state.pairs[ObjectIdentifier(pair)] = nil
                close(pair.client)
                close(pair.upstream)
            }
        }
    }
}
