import ArgumentParser
import Foundation

/// Where the services are and how to print, shared by every command.
public struct ClientOptions: ParsableArguments {
    @OptionGroup var services: ServiceURLOptions

    @Flag(name: .long, help: "Print JSON (for scripts) instead of text.")
    var json = false

    @Option(name: .long, help: "Seconds to wait for each HTTP call.")
    var timeout: Double = 10

    /// Creates the options with their defaults.
    public init() {}

    /// The clients, from the flags, then the environment, then the defaults.
    func clients() throws -> ServiceClients {
        try services.clients(timeout: .seconds(timeout))
    }
}
