import Hummingbird

/// `RetriedRows` of openapi.yaml: how many parked outbox rows went back to the relay.
struct RetriedBody: ResponseEncodable {
    var retried: Int
}
