import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The socket calls the test proxies (``FreezableProxy``, ``TCPForwarder``) share.
enum LoopbackSockets {
    struct SocketError: Error {
        var message: String
    }

    /// A listening socket on `host` (127.0.0.1 unless another loopback address is given) at a port the kernel picks, and that port.
    static func listen(host: String = "127.0.0.1", backlog: Int32) throws -> (socket: Int32, port: Int) {
        let listenSocket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = address(host: host, port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listenSocket, socketAddress, length) == 0 && Glibc.listen(listenSocket, backlog) == 0
                    && getsockname(listenSocket, socketAddress, &length) == 0
            }
        }
        guard listening else {
            close(listenSocket)
            throw SocketError(message: "cannot listen: \(String(cString: strerror(errno)))")
        }
        return (listenSocket, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A new socket connected to `host:port` (an IPv4 address, or `localhost`), and whether the connect succeeded.
    static func connect(host: String, port: Int) -> (socket: Int32, connected: Bool) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var target = address(host: host == "localhost" ? "127.0.0.1" : host, port: port)
        let connected = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        return (upstream, connected)
    }

    private static func address(host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
