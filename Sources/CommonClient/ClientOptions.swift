import ArgumentParser
import Foundation

/// Where the services are and how to print, shared by every command.
public struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "CustomerService's base URL (default: $CUSTOMER_SERVICE_URL or http://127.0.0.1:8081).")
    var customerServiceURL: String?

    @Option(name: .long, help: "OrderService's base URL (default: $ORDER_SERVICE_URL or http://127.0.0.1:8082).")
    var orderServiceURL: String?

    @Flag(name: .long, help: "Print JSON (for scripts) instead of text.")
    var json = false

    @Option(name: .long, help: "Seconds to wait for each HTTP call.")
    var timeout: Double = 10

    /// Creates the options with their defaults.
    public init() {}

    /// The clients, from the flags, then the environment, then the defaults.
    func clients() throws -> ServiceClients {
        let environment = ProcessInfo.processInfo.environment
        let customer = customerServiceURL ?? environment["CUSTOMER_SERVICE_URL"] ?? "http://127.0.0.1:8081"
        let order = orderServiceURL ?? environment["ORDER_SERVICE_URL"] ?? "http://127.0.0.1:8082"
        return ServiceClients(
            customerServiceURL: try Self.url(customer, name: "CustomerService"),
            orderServiceURL: try Self.url(order, name: "OrderService"),
            timeout: .seconds(timeout)
        )
    }

    private static func url(_ text: String, name: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("\(name) URL \"\(text)\" is not an http(s) URL")
        }
        return url
    }
}
