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
        let (listenSocket, port) = try LoopbackSockets.listen(backlog: 4)
        listener = listenSocket
        self.port = port
        state.withLock { $0.sockets.append(listenSocket) }

        let thread = Thread { [self] in
            let client = accept(listenSocket, nil, nil)
            guard client >= 0 else { return }
            let (upstream, connected) = LoopbackSockets.connect(host: targetHost, port: targetPort)
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
}
