/// The HTTP contract of OrderService, generated from openapi.yaml.
package import Contract

/// `OrderPage` of openapi.yaml (see `typeOverrides` in the generator config).
package typealias OrderPageBody = PageBody<Components.Schemas.Order>
