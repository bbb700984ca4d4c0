#ifndef CAMQPSHIM_H
#define CAMQPSHIM_H

#include <sys/time.h>
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#endif

// MARK: TLS (CAMQPTLS.c; OpenSSL stays out of this header, so Swift never imports it)

/// Creates rabbitmq-c's SSL socket on `state` and sets it up to verify the broker, or returns
/// NULL with the reason in `error` (a CA file, certificate or key that cannot be loaded).
///
/// - `ca_file`: the PEM file of the CAs to trust; NULL trusts OpenSSL's default store (the system's).
/// - `cert_file`, `key_file`: the client certificate chain and its unencrypted key, or both NULL.
/// - `host`: the name or IP address the certificate must carry, checked by OpenSSL inside the
///   chain verification (rabbitmq-c 0.11's own check knows DNS names only, so it is turned off).
/// TLS 1.2 at least; a failed verification aborts the handshake. Clears this thread's record of
/// the last verification failure (`camqp_tls_failure`).
amqp_socket_t *camqp_tls_socket_new(amqp_connection_state_t state, const char *host, const char *ca_file, const char *cert_file,
                                    const char *key_file, char *error, size_t error_size);

/// Writes into `buffer` why the last TLS operation on this thread failed: the certificate
/// verification error (with the depth and subject of the certificate that failed), else
/// OpenSSL's error queue (which it empties); an empty string when there is nothing to say.
void camqp_tls_failure(char *buffer, size_t size);

/// `amqp_login_with_properties` with PLAIN credentials and fixed arguments: the C function is
/// variadic, which Swift cannot call. Announces the `connection.blocked` capability (rabbitmq-c
/// announces only `authentication_failure_close` by itself), so that the broker tells the
/// client when a resource alarm blocks publishing instead of silently not reading its socket.
static inline amqp_rpc_reply_t camqp_login_plain(amqp_connection_state_t state, const char *vhost, int channel_max,
                                                 int frame_max, int heartbeat, const char *user, const char *password) {
    amqp_table_entry_t capability_entries[2];
    capability_entries[0].key = amqp_cstring_bytes("connection.blocked");
    capability_entries[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capability_entries[0].value.value.boolean = 1;
    capability_entries[1].key = amqp_cstring_bytes("consumer_cancel_notify");
    capability_entries[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capability_entries[1].value.value.boolean = 1;
    amqp_table_entry_t property_entries[1];
    property_entries[0].key = amqp_cstring_bytes("capabilities");
    property_entries[0].value.kind = AMQP_FIELD_KIND_TABLE;
    property_entries[0].value.value.table.num_entries = 2;
    property_entries[0].value.value.table.entries = capability_entries;
    amqp_table_t properties = {1, property_entries};
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, &properties, AMQP_SASL_METHOD_PLAIN, user,
                                      password);
}

// Method ids and property flags are #defines with casts, which Swift does not
// import; re-export them as constants.
static const amqp_method_number_t CAMQP_BASIC_ACK_METHOD = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t CAMQP_BASIC_NACK_METHOD = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t CAMQP_BASIC_RETURN_METHOD = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t CAMQP_BASIC_DELIVER_METHOD = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t CAMQP_CHANNEL_CLOSE_METHOD = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t CAMQP_CHANNEL_CLOSE_OK_METHOD = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t CAMQP_CONNECTION_CLOSE_METHOD = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t CAMQP_CONNECTION_CLOSE_OK_METHOD = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t CAMQP_BASIC_GET_OK_METHOD = AMQP_BASIC_GET_OK_METHOD;
static const amqp_method_number_t CAMQP_BASIC_GET_EMPTY_METHOD = AMQP_BASIC_GET_EMPTY_METHOD;
static const amqp_method_number_t CAMQP_BASIC_CANCEL_METHOD = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t CAMQP_CONNECTION_BLOCKED_METHOD = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t CAMQP_CONNECTION_UNBLOCKED_METHOD = AMQP_CONNECTION_UNBLOCKED_METHOD;

static const amqp_flags_t CAMQP_BASIC_CONTENT_TYPE_FLAG = AMQP_BASIC_CONTENT_TYPE_FLAG;
static const amqp_flags_t CAMQP_BASIC_CONTENT_ENCODING_FLAG = AMQP_BASIC_CONTENT_ENCODING_FLAG;
static const amqp_flags_t CAMQP_BASIC_HEADERS_FLAG = AMQP_BASIC_HEADERS_FLAG;
static const amqp_flags_t CAMQP_BASIC_DELIVERY_MODE_FLAG = AMQP_BASIC_DELIVERY_MODE_FLAG;
static const amqp_flags_t CAMQP_BASIC_PRIORITY_FLAG = AMQP_BASIC_PRIORITY_FLAG;
static const amqp_flags_t CAMQP_BASIC_CORRELATION_ID_FLAG = AMQP_BASIC_CORRELATION_ID_FLAG;
static const amqp_flags_t CAMQP_BASIC_REPLY_TO_FLAG = AMQP_BASIC_REPLY_TO_FLAG;
static const amqp_flags_t CAMQP_BASIC_EXPIRATION_FLAG = AMQP_BASIC_EXPIRATION_FLAG;
static const amqp_flags_t CAMQP_BASIC_MESSAGE_ID_FLAG = AMQP_BASIC_MESSAGE_ID_FLAG;
static const amqp_flags_t CAMQP_BASIC_TIMESTAMP_FLAG = AMQP_BASIC_TIMESTAMP_FLAG;
static const amqp_flags_t CAMQP_BASIC_TYPE_FLAG = AMQP_BASIC_TYPE_FLAG;
static const amqp_flags_t CAMQP_BASIC_USER_ID_FLAG = AMQP_BASIC_USER_ID_FLAG;
static const amqp_flags_t CAMQP_BASIC_APP_ID_FLAG = AMQP_BASIC_APP_ID_FLAG;

#endif
