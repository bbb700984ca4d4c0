import ServiceClient
import Testing

@testable import CommonClient

/// How the client turns an answer other than the expected success into a failure.
@Suite("Client failures")
struct ClientFailureTests {
    @Test("a documented error answer is its problem; an undocumented one is its status")
    func answers() throws {
        let notFound = Operations.GetCustomer.Output.notFound(
            .init(body: .applicationProblemJson(.init(_type: "/problems/not-found", title: "No such record", status: 404, detail: "no customer x"))))
        let failure = try ServiceClients.Service.customerService.failure(answering: notFound)
        #expect(failure.status == 404)
        #expect(failure.type == "/problems/not-found")
        #expect(failure.message == "CustomerService answered 404 No such record: no customer x")
        let undocumented = Operations.GetOrder.Output.undocumented(statusCode: 502, .init())
        let other = try ServiceClients.Service.orderService.failure(answering: undocumented)
        #expect(other.status == 502)
        #expect(other.message == "OrderService answered with an unexpected status 502")
    }
}
