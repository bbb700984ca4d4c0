/*
 * amqp_raw: the work of amqp-bench done with rabbitmq-c directly, as the baseline.
 * Publishes N persistent messages (same properties and header as amqp-bench) with publisher
 * confirms and a window of W outstanding to a fanout exchange bound to one quorum queue,
 * then prints messages/s.
 *
 *   gcc -O2 -o amqp_raw amqp_raw.c -lrabbitmq
 *   ./amqp_raw URL [MESSAGES=20000] [SIZE=1024] [WINDOW=128]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

static void die_reply(amqp_rpc_reply_t reply, const char *context) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        fprintf(stderr, "%s: %s\n", context, amqp_error_string2(reply.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = reply.reply.decoded;
            fprintf(stderr, "%s: connection closed %u %.*s\n", context, m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
        } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = reply.reply.decoded;
            fprintf(stderr, "%s: channel closed %u %.*s\n", context, m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
        } else {
            fprintf(stderr, "%s: unexpected server method 0x%08X\n", context, reply.reply.id);
        }
        break;
    default:
        fprintf(stderr, "%s: no reply\n", context);
    }
    exit(1);
}

static void die_status(int status, const char *context) {
    if (status != AMQP_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", context, amqp_error_string2(status));
        exit(1);
    }
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [MESSAGES] [SIZE] [WINDOW]\n", argv[0]);
        return 2;
    }
    char *url = strdup(argv[1]);
    int total = argc > 2 ? atoi(argv[2]) : 20000;
    int size = argc > 3 ? atoi(argv[3]) : 1024;
    int window = argc > 4 ? atoi(argv[4]) : 128;

    struct amqp_connection_info info;
    die_status(amqp_parse_url(url, &info), "parsing the URL");

    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(conn);
    if (!socket) {
        fprintf(stderr, "amqp_tcp_socket_new failed\n");
        return 1;
    }
    die_status(amqp_socket_open(socket, info.host, info.port), "connecting");
    die_reply(amqp_login(conn, info.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, info.user, info.password), "login");
    amqp_channel_open(conn, 1);
    die_reply(amqp_get_rpc_reply(conn), "channel.open");
    amqp_confirm_select(conn, 1);
    die_reply(amqp_get_rpc_reply(conn), "confirm.select");

    char name[64];
    snprintf(name, sizeof name, "amqp-bench.c.%d", (int)getpid());
    amqp_bytes_t name_bytes = amqp_cstring_bytes(name);

    amqp_exchange_declare(conn, 1, name_bytes, amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
    die_reply(amqp_get_rpc_reply(conn), "exchange.declare");
    amqp_table_entry_t queue_arg;
    queue_arg.key = amqp_cstring_bytes("x-queue-type");
    queue_arg.value.kind = AMQP_FIELD_KIND_UTF8;
    queue_arg.value.value.bytes = amqp_cstring_bytes("quorum");
    amqp_table_t queue_args = {1, &queue_arg};
    amqp_queue_declare(conn, 1, name_bytes, 0, 1, 0, 0, queue_args);
    die_reply(amqp_get_rpc_reply(conn), "queue.declare");
    amqp_queue_bind(conn, 1, name_bytes, name_bytes, amqp_empty_bytes, amqp_empty_table);
    die_reply(amqp_get_rpc_reply(conn), "queue.bind");

    char *body_data = malloc(size);
    memset(body_data, 'x', size);
    amqp_bytes_t body = {(size_t)size, body_data};
    /* confirmed[tag] for tags 1...total */
    unsigned char *confirmed = calloc(total + 2, 1);
    char message_id[32];

    amqp_table_entry_t header;
    header.key = amqp_cstring_bytes("x-sequence");
    header.value.kind = AMQP_FIELD_KIND_I64;
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.headers.num_entries = 1;
    props.headers.entries = &header;

    uint64_t published = 0, confirmed_count = 0, lowest_unconfirmed = 1;
    double started = now_seconds();
    while (confirmed_count < (uint64_t)total) {
        while (published < (uint64_t)total && published - confirmed_count < (uint64_t)window) {
            snprintf(message_id, sizeof message_id, "m-%llu", (unsigned long long)published);
            props.message_id = amqp_cstring_bytes(message_id);
            header.value.value.i64 = (int64_t)published;
            die_status(amqp_basic_publish(conn, 1, name_bytes, amqp_empty_bytes, 0, 0, &props, body), "basic.publish");
            published++;
        }
        amqp_frame_t frame;
        die_status(amqp_simple_wait_frame(conn, &frame), "waiting for a confirm");
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            fprintf(stderr, "message nacked\n");
            return 1;
        }
        if (frame.payload.method.id != AMQP_BASIC_ACK_METHOD) {
            fprintf(stderr, "unexpected method 0x%08X\n", frame.payload.method.id);
            return 1;
        }
        amqp_basic_ack_t *ack = frame.payload.method.decoded;
        uint64_t from = ack->multiple ? lowest_unconfirmed : ack->delivery_tag;
        for (uint64_t tag = from; tag <= ack->delivery_tag && tag <= (uint64_t)total; tag++) {
            if (!confirmed[tag]) {
                confirmed[tag] = 1;
                confirmed_count++;
            }
        }
        while (lowest_unconfirmed <= (uint64_t)total && confirmed[lowest_unconfirmed]) lowest_unconfirmed++;
        amqp_maybe_release_buffers(conn);
    }
    double elapsed = now_seconds() - started;

    amqp_queue_declare_ok_t *ok = amqp_queue_declare(conn, 1, name_bytes, 1, 0, 0, 0, amqp_empty_table);
    die_reply(amqp_get_rpc_reply(conn), "queue.declare (passive)");
    if (ok->message_count != (uint32_t)total) {
        fprintf(stderr, "queue holds %u messages, expected %d\n", ok->message_count, total);
        return 1;
    }
    amqp_queue_delete(conn, 1, name_bytes, 0, 0);
    die_reply(amqp_get_rpc_reply(conn), "queue.delete");
    amqp_exchange_delete(conn, 1, name_bytes, 0);
    die_reply(amqp_get_rpc_reply(conn), "exchange.delete");
    die_reply(amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS), "channel.close");
    die_reply(amqp_connection_close(conn, AMQP_REPLY_SUCCESS), "connection.close");
    die_status(amqp_destroy_connection(conn), "destroying the connection");

    double rate = total / elapsed;
    printf("c: %d messages of %d B, window %d: %.3f s, %d msg/s\n", total, size, window, elapsed, (int)rate);
    printf("RESULT c %d\n", (int)rate);
    free(confirmed);
    free(body_data);
    free(url);
    return 0;
}
