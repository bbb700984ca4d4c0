import ArgumentParser
import Contract
import Foundation
import ServiceClient

struct CreateCustomer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a customer at CustomerService.")

    @OptionGroup var options: ClientOptions
    @Option(help: "The customer's name (1...200 characters).") var name: String
    @Option(help: "The customer's email (unique).") var email: String
    @Option(help: "The credit limit in cents.") var creditLimit: Int64?
    @OptionGroup var request: RequestOptions

    func run() async throws {
        let customer = try await options.clients().createCustomer(
            name: name, email: email, creditLimit: creditLimit, requestId: request.requestId, idempotencyKey: request.idempotencyKey
        )
        try Output(json: options.json).show(customer) { "created customer \(customer.id) \(customer.name) <\(customer.email)>" }
    }
}

struct CreateOrder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an order at OrderService for a customer it knows.")

    @OptionGroup var options: ClientOptions
    @Option(help: "The customer's id.") var customerId: String
    @Option(help: "The amount in cents (> 0).") var amount: Int64
    @OptionGroup var request: RequestOptions

    func run() async throws {
        let order = try await options.clients().createOrder(
            customerId: customerId, amount: amount, requestId: request.requestId, idempotencyKey: request.idempotencyKey
        )
        try Output(json: options.json).show(order) { "created order \(order.id) for customer \(order.customerId): \(money(order.amount))" }
    }
}

struct GetCustomer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a customer, with its orders as CustomerService's replica has them.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The customer's id.") var id: String

    struct Result: Encodable {
        var customer: Components.Schemas.Customer
        var orders: [Components.Schemas.ReplicatedOrder]
    }

    func run() async throws {
        let clients = try options.clients()
        let customer = try await clients.customer(id: id)
        let orders = try await clients.customerOrders(customerId: id)
        try Output(json: options.json).show(Result(customer: customer, orders: orders)) {
            var lines = customer.text() + ["  orders        \(orders.count) (replicated)"]
            lines += orders.map { "    \($0.value1.id)  \(money($0.value1.amount))  \(Timestamp.format($0.value1.createdAt))" }
            return lines.joined(separator: "\n")
        }
    }
}

struct GetOrder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an order.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The order's id.") var id: String

    func run() async throws {
        let order = try await options.clients().order(id: id)
        try Output(json: options.json).show(order) { order.text().joined(separator: "\n") }
    }
}

struct ListCustomers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List customers, oldest first, a page at a time.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Customers per page (1...1000).") var limit: Int?
    @Option(help: "The `next` cursor printed with the previous page.") var after: String?

    func run() async throws {
        let page = try await options.clients().customers(limit: limit, after: after)
        try Output(json: options.json).show(page) {
            let lines = page.items.map { "\($0.id)  \($0.name) <\($0.email)>  \(money($0.creditLimit))" }
            return (lines + [page.next.map { "next page: --after \($0)" } ?? "(last page)"]).joined(separator: "\n")
        }
    }
}

struct ListOrders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List orders, oldest first, a page at a time.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer's orders.") var customerId: String?
    @Option(help: "Orders per page (1...1000).") var limit: Int?
    @Option(help: "The `next` cursor printed with the previous page.") var after: String?

    func run() async throws {
        let page = try await options.clients().orders(customerId: customerId, limit: limit, after: after)
        try Output(json: options.json).show(page) {
            let lines = page.items.map { "\($0.id)  customer \($0.customerId)  \(money($0.amount))" }
            return (lines + [page.next.map { "next page: --after \($0)" } ?? "(last page)"]).joined(separator: "\n")
        }
    }
}
