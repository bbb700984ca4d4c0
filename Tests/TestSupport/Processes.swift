import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `script` with `arguments` (`run(script: script, "stop-postgres")`) and waits for it
/// without blocking a cooperative thread; fails the test, at the caller's line, when it exits
/// with another status than 0.
///
/// Foundation's `Process` on Linux learns that a child exited when a socket it gave the child
/// reaches EOF; a script that leaves a server running in the background (`start-postgres`,
/// `start-rabbitmq`) would hand that socket on and keep the wait hanging for as long as the
/// server runs. So the script runs under a shell that first closes every descriptor above stderr.
public func run(script: String, _ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments =
        [
            "-c",
            #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done; exec "$0" "$@""#,
            script,
        ] + arguments
    let status = try await runToCompletion(process)
    let command = ([script] + arguments).joined(separator: " ")
    try #require(status == 0, "\(command) exited with \(status)", sourceLocation: sourceLocation)
}

/// Launches `process` and returns its exit status once it has exited, waiting without blocking
/// a cooperative thread. Throws when it cannot be launched.
public func runToCompletion(_ process: Process) async throws -> Int32 {
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    withExtendedLifetime(process) {}
    return status
}

/// A TCP port on 127.0.0.1 where nothing listens right now (bound once, then released):
/// for a connection that must be refused, or a server to start on a known port.
public func freePort(sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(descriptor >= 0, "socket() failed", sourceLocation: sourceLocation)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
    }
    try #require(bound, "bind() to an ephemeral port failed", sourceLocation: sourceLocation)
    return Int(UInt16(bigEndian: address.sin_port))
}
