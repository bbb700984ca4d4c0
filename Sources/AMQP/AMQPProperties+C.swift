import CAMQPShim
import CRabbitMQ
import Foundation

extension AMQPProperties {
    /// Decodes rabbitmq-c's basic properties (copying everything out of C memory).
    init(_ properties: amqp_basic_properties_t) {
        let flags = properties._flags
        func string(_ flag: amqp_flags_t, _ value: amqp_bytes_t) -> String? {
            flags & flag != 0 ? value.string : nil
        }
        self.init(
            contentType: string(CAMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type),
            contentEncoding: string(CAMQP_BASIC_CONTENT_ENCODING_FLAG, properties.content_encoding),
            persistent: flags & CAMQP_BASIC_DELIVERY_MODE_FLAG != 0 && properties.delivery_mode == UInt8(AMQP_DELIVERY_PERSISTENT.rawValue),
            messageID: string(CAMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id),
            type: string(CAMQP_BASIC_TYPE_FLAG, properties.type),
            timestamp: flags & CAMQP_BASIC_TIMESTAMP_FLAG != 0 ? Date(timeIntervalSince1970: TimeInterval(properties.timestamp)) : nil,
            appID: string(CAMQP_BASIC_APP_ID_FLAG, properties.app_id),
            userID: string(CAMQP_BASIC_USER_ID_FLAG, properties.user_id),
            correlationID: string(CAMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id),
            replyTo: string(CAMQP_BASIC_REPLY_TO_FLAG, properties.reply_to),
            expiration: string(CAMQP_BASIC_EXPIRATION_FLAG, properties.expiration),
            priority: flags & CAMQP_BASIC_PRIORITY_FLAG != 0 ? properties.priority : nil,
            headers: flags & CAMQP_BASIC_HEADERS_FLAG != 0 ? AMQPFieldValue.table(properties.headers) : [:]
        )
    }
}

extension AMQPScratchPool {
    /// The properties as rabbitmq-c's structure, its strings and headers in this pool.
    func properties(_ properties: AMQPProperties) throws -> amqp_basic_properties_t {
        var result = amqp_basic_properties_t()
        var flags: amqp_flags_t = CAMQP_BASIC_DELIVERY_MODE_FLAG
        result.delivery_mode = properties.persistent ? UInt8(AMQP_DELIVERY_PERSISTENT.rawValue) : UInt8(AMQP_DELIVERY_NONPERSISTENT.rawValue)
        func set(_ value: String?, _ flag: amqp_flags_t, _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>) throws {
            guard let value else { return }
            flags |= flag
            result[keyPath: field] = try bytes(value)
        }
        try set(properties.contentType, CAMQP_BASIC_CONTENT_TYPE_FLAG, \.content_type)
        try set(properties.contentEncoding, CAMQP_BASIC_CONTENT_ENCODING_FLAG, \.content_encoding)
        try set(properties.messageID, CAMQP_BASIC_MESSAGE_ID_FLAG, \.message_id)
        try set(properties.type, CAMQP_BASIC_TYPE_FLAG, \.type)
        try set(properties.appID, CAMQP_BASIC_APP_ID_FLAG, \.app_id)
        try set(properties.userID, CAMQP_BASIC_USER_ID_FLAG, \.user_id)
        try set(properties.correlationID, CAMQP_BASIC_CORRELATION_ID_FLAG, \.correlation_id)
        try set(properties.replyTo, CAMQP_BASIC_REPLY_TO_FLAG, \.reply_to)
        try set(properties.expiration, CAMQP_BASIC_EXPIRATION_FLAG, \.expiration)
        if let value = properties.timestamp {
            flags |= CAMQP_BASIC_TIMESTAMP_FLAG
            result.timestamp = UInt64(max(0, value.timeIntervalSince1970.rounded(.down)))
        }
        if let value = properties.priority {
            flags |= CAMQP_BASIC_PRIORITY_FLAG
            result.priority = value
        }
        if !properties.headers.isEmpty {
            flags |= CAMQP_BASIC_HEADERS_FLAG
            result.headers = try table(properties.headers)
        }
        result._flags = flags
        return result
    }
}
