#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H

// amqp.h only forward-declares struct timeval.
#include <sys/time.h>

// rabbitmq-c 0.12+ installs its headers under rabbitmq-c/; 0.11 (Debian 12)
// installs them at the top of the include path.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif

#endif
