import Foundation

/// The environment variables `common-client` reads, each the default of a flag. Read them
/// through ``value(_:)``, so that ``Variable/allCases`` stays the list that
/// docs/configuration.md's table is checked against.
public enum ClientEnvironment {
    /// A variable the client reads.
    public enum Variable: String, CaseIterable, Sendable {
        /// CustomerService's base URL (`--customer-service-url`).
        case customerServiceURL = "CUSTOMER_SERVICE_URL"
        /// OrderService's base URL (`--order-service-url`).
        case orderServiceURL = "ORDER_SERVICE_URL"
        /// CustomerService's admin listener (`--customer-service-admin-url`).
        case customerServiceAdminURL = "CUSTOMER_SERVICE_ADMIN_URL"
        /// OrderService's admin listener (`--order-service-admin-url`).
        case orderServiceAdminURL = "ORDER_SERVICE_ADMIN_URL"
        /// The operations token (`--token-file` names a file holding it instead).
        case operationsToken = "OPERATIONS_TOKEN"
    }

    /// The value of `variable` in the process's environment; nil when unset or empty.
    static func value(_ variable: Variable) -> String? {
        guard let text = ProcessInfo.processInfo.environment[variable.rawValue], !text.isEmpty else { return nil }
        return text
    }
}
