import ArgumentParser
import Foundation
import ServiceClient

struct UpdateCustomer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change a customer's name, email or credit limit at CustomerService.",
        discussion: "Sets only the fields given (at least one); prints the customer with its new version."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The customer's id.") var id: String
    @Option(help: "The new name (1...200 characters).") var name: String?
    @Option(help: "The new email (unique).") var email: String?
    @Option(help: "The new credit limit in cents.") var creditLimit: Int64?
    @OptionGroup var change: ChangeOptions

    func validate() throws {
        guard name != nil || email != nil || creditLimit != nil else {
            throw ValidationError("give at least one of --name, --email, --credit-limit")
        }
    }

    func run() async throws {
        let customer = try await options.clients().updateCustomer(
            id: id, name: name, email: email, creditLimit: creditLimit, headers: change.headers)
        try Output(json: options.json).show(customer) { customer.text(heading: "updated customer").joined(separator: "\n") }
    }
}

struct DeleteCustomer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a customer at CustomerService.",
        discussion: "OrderService refuses new orders for it once the deletion has replicated; a second delete answers 404."
    )

    @OptionGroup var change: ChangeOptions
    @OptionGroup var options: ClientOptions
    @Argument(help: "The customer's id.") var id: String

    struct Result: Encodable {
        var id: String
        var deleted: Bool
    }

    func run() async throws {
        try await options.clients().deleteCustomer(id: id, headers: change.headers)
        try Output(json: options.json).show(Result(id: id, deleted: true)) { "deleted customer \(id)" }
    }
}

struct CancelOrder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel an order at OrderService.",
        discussion: "Prints the order with its new version; an order already cancelled answers 409."
    )

    @Argument(help: "The order's id.") var id: String
    @OptionGroup var options: ClientOptions
    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let order = try await options.clients().cancelOrder(id: id, headers: change.headers)
        try Output(json: options.json).show(order) { order.text(heading: "cancelled order").joined(separator: "\n") }
    }
}
