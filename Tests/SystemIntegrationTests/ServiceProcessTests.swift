import AMQP
import CommonClient
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `customer-service` executable, stopped with SIGTERM in the middle of a burst.
@Suite("Service process", .timeLimit(.minutes(3)))
struct ServiceProcessTests {
    @Test("SIGTERM during a burst of creates exits 0, and every 201 it returned is replicated after a restart")
    func sigtermDuringBurst() async throws {
        try await withSystem(start: false) { system in
            try await system.orderService.start()
            let port = try freePort()
            let customerURL = URL(string: "http://127.0.0.1:\(port)")!
            let adminPort = try freePort()
            let environment = [
                "DATABASE_URL": system.databaseURL(.customerService),
                "AMQP_URL": try TestEnvironment.amqpURL(),
                // Both services share the test broker's user here.
                "CONSUMER_PUBLISHER_USER": try AMQPConfiguration(url: TestEnvironment.amqpURL()).user,
                "HTTP_PORT": "\(port)",
                "ADMIN_ADDRESS": "127.0.0.1:\(adminPort)",
                "OPERATIONS_TOKEN": TestSystem.operationsToken,
                "BROKER_NAME_PREFIX": system.names.prefix,
                "LOG_LEVEL": "warning",
            ]
            let clients = ServiceClients(
                customerServiceURL: customerURL, orderServiceURL: system.orderServiceURL,
                customerServiceAdminURL: URL(string: "http://127.0.0.1:\(adminPort)")!, orderServiceAdminURL: system.orderServiceAdminURL,
                token: TestSystem.operationsToken, timeout: .seconds(5))

            let first = try ServiceProcess.start("customer-service", environment: environment)
            await expectEventually(timeout: .seconds(60)) { (try? await clients.readiness(of: .customerService).status) == .ok }
            let created = Collector<String>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in 0..<400 {
                            do {
                                let customer = try await clients.createCustomer(
                                    name: "Burst \(worker)-\(index)", email: "burst-\(worker)-\(index)@example.com", creditLimit: nil
                                )
                                created.append(customer.id)
                            } catch {
                                return  // the server is going away: stop this worker
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(700))
                first.terminate()
                try await group.waitForAll()
            }
            #expect(await first.exitStatus() == 0, "customer-service must exit 0 after SIGTERM")
            let ids = created.all
            #expect(!ids.isEmpty)

            // A process start among dozens of parallel tests can take a while on 2 cores: the waits are generous.
            let second = try ServiceProcess.start("customer-service", environment: environment)
            defer { second.terminate() }
            await expectEventually(timeout: .seconds(60)) { (try? await clients.readiness(of: .customerService).status) == .ok }
            try await expectEventually(timeout: .seconds(30)) {
                try await clients.replicationStatus(of: .orderService).replica.count >= Int64(ids.count)
            }
            for id in ids { #expect(try await clients.replicaCustomer(id: id) != nil, "customer \(id) got a 201 but was not replicated") }
            let source = try await clients.replicationStatus(of: .customerService).source
            #expect(try await clients.replicationStatus(of: .orderService).replica == source)
            second.terminate()
            #expect(await second.exitStatus() == 0)
        }
    }
}

/// A service executable from the build directory, run as a child process.
final class ServiceProcess: Sendable {
    private let process: Process

    private init(process: Process) {
        self.process = process
    }

    static func start(_ name: String, environment: [String: String]) throws -> ServiceProcess {
        let process = Process()
        process.executableURL = TestEnvironment.binaryDirectory.appendingPathComponent(name)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return ServiceProcess(process: process)
    }

    /// Sends SIGTERM (once running).
    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Waits for the exit and returns the status (the signal number, had a signal killed it).
    func exitStatus() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return process.terminationStatus
    }
}
