/// The operations endpoints of both services, generated from openapi.yaml.
package import Contract

/// `RecordVersionPage` of openapi.yaml (see `typeOverrides` in the generator config).
package typealias RecordVersionPageBody = PageBody<RecordVersion>
