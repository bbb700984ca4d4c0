/// The HTTP contract of CustomerService, generated from openapi.yaml.
package import Contract

/// `CustomerPage` of openapi.yaml (see `typeOverrides` in the generator config).
package typealias CustomerPageBody = PageBody<Components.Schemas.Customer>

/// `ReplicatedOrderPage` of openapi.yaml (see `typeOverrides` in the generator config).
package typealias ReplicatedOrderPageBody = PageBody<Components.Schemas.ReplicatedOrder>
