import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 in front of the broker that can be frozen: it then stops moving
/// bytes but keeps both sockets open, like a peer that hangs or a network that silently drops
/// packets. Handles one client connection; ``stop()`` closes everything.
final class FreezableProxy: Sendable {
    private struct State {
        var frozen = false
        var stopped = false
        var sockets: [Int32] = []
    }

    let port: Int
    private let listener: Int32
    private let state = Mutex(State())

    init(targetHost: String, targetPort: Int) throws {
        let listenSocket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = listenSocket
        var address = Self.address(host: "127.0.0.1", port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listenSocket, socketAddress, length) == 0 && listen(listenSocket, 4) == 0
                    && getsockname(listenSocket, socketAddress, &length) == 0
            }
        }
        guard listening else { throw ProxyError(message: "cannot listen: \(String(cString: strerror(errno)))") }
        port = Int(UInt16(bigEndian: address.sin_port))
        state.withLock { $0.sockets.append(listenSocket) }

        let thread = Thread { [self] in
            let client = accept(listenSocket, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var target = Self.address(host: targetHost == "localhost" ? "127.0.0.1" : targetHost, port: targetPort)
            let connected = withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            state.withLock { $0.sockets += [client, upstream] }
            guard connected else { return }
            let back = Thread { [self] in pump(from: upstream, to: client) }
            back.start()
            pump(from: client, to: upstream)
        }
        thread.start()
    }

    deinit {
        // The forwarding threads hold the proxy until they end, so no thread uses these any more.
        for socket in state.withLock({ $0.sockets }) { close(socket) }
    }

    /// Stops forwarding (bytes stay in the kernel buffers; nothing is closed).
    func freeze() { state.withLock { $0.frozen = true } }

    /// Closes all sockets; the forwarding threads end.
    func stop() {
        let sockets = state.withLock { state in
            state.stopped = true
            return state.sockets
        }
        for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let (frozen, stopped) = state.withLock { ($0.frozen, $0.stopped) }
            if stopped { return }
            if frozen {
                usleep(20_000)
                continue
            }
            var descriptor = pollfd(fd: source, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            if state.withLock({ $0.frozen }) { continue }
            let count = read(source, &buffer, buffer.count)
            if count <= 0 { return }
            var written = 0
            while written < count {
                let result = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + written, count - written) }
                if result <= 0 { return }
                written += result
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

    struct ProxyError: Error {
        var message: String
    }
}
