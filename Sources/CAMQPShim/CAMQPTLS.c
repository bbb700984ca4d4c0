// The TLS set-up of rabbitmq-c's SSL socket that its API does not offer: OpenSSL's host name
// check (IP addresses included), a minimum protocol version, a refusal of encrypted keys
// instead of a password prompt, and the reason a handshake failed.
#include "CAMQPShim.h"

#if __has_include(<rabbitmq-c/ssl_socket.h>)
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp_ssl_socket.h>
#endif

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

// The first verification failure of the handshake running on this thread. A connection opens
// on its own dedicated thread, and OpenSSL calls the verify callback on the thread that runs
// the handshake, so a thread-local record needs no lock and is never another connection's.
static _Thread_local char camqp_tls_verify_failure[512];

static int camqp_tls_verify_callback(int preverify_ok, X509_STORE_CTX *store) {
    if (!preverify_ok && camqp_tls_verify_failure[0] == '\0') {
        int code = X509_STORE_CTX_get_error(store);
        X509 *certificate = X509_STORE_CTX_get_current_cert(store);
        char subject[256] = "?";
        if (certificate != NULL) {
            X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
        }
        snprintf(camqp_tls_verify_failure, sizeof camqp_tls_verify_failure, "%s (certificate at depth %d, subject %s)",
                 X509_verify_cert_error_string(code), X509_STORE_CTX_get_error_depth(store), subject);
    }
    return preverify_ok;
}

// A key file protected by a password would make OpenSSL ask for it on the terminal; refuse instead.
static int camqp_tls_no_password(char *buffer, int size, int rwflag, void *userdata) {
    (void)buffer;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return -1;
}

// Appends OpenSSL's error queue ("reason (detail); reason ...") to `buffer`, emptying the queue.
static void camqp_tls_append_errors(char *buffer, size_t size) {
    const char *data = NULL;
    int flags = 0;
    unsigned long code;
    size_t start = strlen(buffer);
    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        size_t used = strlen(buffer);
        if (used + 1 >= size) {
            continue;
        }
        const char *reason = ERR_SYSTEM_ERROR(code) ? strerror(ERR_GET_REASON(code)) : ERR_reason_error_string(code);
        char fallback[32];
        if (reason == NULL) {
            snprintf(fallback, sizeof fallback, "error %lx", code);
            reason = fallback;
        }
        const char *detail = (flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0' ? data : NULL;
        snprintf(buffer + used, size - used, "%s%s%s%s%s", used > start ? "; " : "", reason, detail ? " (" : "", detail ? detail : "",
                 detail ? ")" : "");
    }
}

static void camqp_tls_set_error(char *error, size_t size, const char *what) {
    snprintf(error, size, "%s: ", what);
    size_t prefix = strlen(error);
    camqp_tls_append_errors(error, size);
    if (strlen(error) == prefix) {
        snprintf(error + prefix, size - prefix, "OpenSSL gave no reason");
    }
}

amqp_socket_t *camqp_tls_socket_new(amqp_connection_state_t state, const char *host, const char *ca_file, const char *cert_file,
                                    const char *key_file, char *error, size_t error_size) {
    camqp_tls_verify_failure[0] = '\0';
    error[0] = '\0';
    ERR_clear_error();
    amqp_socket_t *socket = amqp_ssl_socket_new(state);
    if (socket == NULL) {
        camqp_tls_set_error(error, error_size, "cannot create the TLS socket");
        return NULL;
    }
    SSL_CTX *context = amqp_ssl_socket_get_context(socket);
    SSL_CTX_set_default_passwd_cb(context, camqp_tls_no_password);
    if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
        camqp_tls_set_error(error, error_size, "cannot require TLS 1.2");
        return NULL;
    }
    if (ca_file != NULL) {
        if (amqp_ssl_socket_set_cacert(socket, ca_file) != AMQP_STATUS_OK) {
            char what[300];
            snprintf(what, sizeof what, "cannot load the CA file %s", ca_file);
            camqp_tls_set_error(error, error_size, what);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
        camqp_tls_set_error(error, error_size, "cannot load the system's trusted CAs");
        return NULL;
    }
    if (cert_file != NULL || key_file != NULL) {
        if (cert_file == NULL || key_file == NULL) {
            snprintf(error, error_size, "a client certificate needs both its certificate file and its key file");
            return NULL;
        }
        if (amqp_ssl_socket_set_key(socket, cert_file, key_file) != AMQP_STATUS_OK) {
            char what[600];
            snprintf(what, sizeof what, "cannot load the client certificate %s with its key %s", cert_file, key_file);
            camqp_tls_set_error(error, error_size, what);
            return NULL;
        }
    }
    X509_VERIFY_PARAM *parameters = SSL_CTX_get0_param(context);
    X509_VERIFY_PARAM_set_hostflags(parameters, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // An IP address literal must match an IP address entry; anything else is a DNS name.
    if (X509_VERIFY_PARAM_set1_ip_asc(parameters, host) != 1) {
        ERR_clear_error();
        if (X509_VERIFY_PARAM_set1_host(parameters, host, 0) != 1) {
            camqp_tls_set_error(error, error_size, "cannot set the host name to verify");
            return NULL;
        }
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, camqp_tls_verify_callback);
    amqp_ssl_socket_set_verify_peer(socket, 1);
    amqp_ssl_socket_set_verify_hostname(socket, 0);
    return socket;
}

void camqp_tls_failure(char *buffer, size_t size) {
    if (size == 0) {
        return;
    }
    buffer[0] = '\0';
    if (camqp_tls_verify_failure[0] != '\0') {
        snprintf(buffer, size, "%s", camqp_tls_verify_failure);
        camqp_tls_verify_failure[0] = '\0';
        ERR_clear_error();
        return;
    }
    camqp_tls_append_errors(buffer, size);
}
