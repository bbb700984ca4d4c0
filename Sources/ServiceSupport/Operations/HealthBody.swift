import Hummingbird

/// `Health` of openapi.yaml.
struct HealthBody: ResponseEncodable {
    struct Dependency: Encodable {
        var status: String
        var detail: String?
    }

    var status: String
    var service: String
    var database: Dependency?
    var broker: Dependency?

    init(status: String, service: String, database: Dependency?, broker: Dependency?) {
        self.status = status
        self.service = service
        self.database = database
        self.broker = broker
    }

    init(_ readiness: Readiness, service: String) {
        self.init(
            status: readiness.isReady ? "ok" : "unavailable",
            service: service,
            database: Dependency(status: readiness.database.up ? "up" : "down", detail: readiness.database.detail),
            broker: Dependency(status: readiness.broker.up ? "up" : "down", detail: readiness.broker.detail)
        )
    }
}
