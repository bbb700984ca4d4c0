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

    init(targetHost: String, targetPort: Int) throws {
        self.targetHost = targetHost == "localhost" ? "127.0.0.1" : targetHost
        self.targetPort = targetPort
        let listenSocket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.address(host: "127.0.0.1", port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listenSocket, socketAddress, length) == 0 && listen(listenSocket, 16) == 0
                    && getsockname(listenSocket, socketAddress, &length) == 0
            }
        }
        guard listening else {
            close(listenSocket)
            throw FreezableProxy.ProxyError(message: "cannot listen: \(String(cString: strerror(errno)))")
        }
        listener = listenSocket
        port = Int(UInt16(bigEndian: address.sin_port))
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
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var target = Self.address(host: targetHost, port: targetPort)
            let connected = withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
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

    private static func address(host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
