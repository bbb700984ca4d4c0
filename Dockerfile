# The image of CustomerService, OrderService and the common client, built
# from source: docker build -t customer-order-replication .
# (compose/docker-compose.yml builds it the same way.)
#
#   docker run --rm customer-order-replication customer-service     a service
#   docker run --rm customer-order-replication status               common-client status
#
# The runtime stage has no Swift toolchain: the binaries carry the Swift
# standard library and Foundation (--static-swift-stdlib) and need only
# rabbitmq-c (librabbitmq4) and libpq (libpq5) from Debian.
# compose/Dockerfile.prebuilt packages binaries built on the host instead.

ARG SWIFT_IMAGE=swift:6.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# MARK: Build

FROM ${SWIFT_IMAGE} AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq-dev libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so that a change in Sources/ reuses this layer.
COPY Package.swift Package.resolved* ./
RUN swift package resolve

COPY . .

RUN set -eu; \
    for product in customer-service order-service common-client; do \
        swift build -c release --static-swift-stdlib --product "$product"; \
    done; \
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"; \
    mkdir -p /staging; \
    cp "$bin/customer-service" "$bin/order-service" "$bin/common-client" /staging/; \
    find -L "$bin/" -maxdepth 1 -regex '.*\.resources$' -exec cp -Ra {} /staging/ \; ; \
    if [ -x /usr/libexec/swift/linux/swift-backtrace-static ]; then \
        cp /usr/libexec/swift/linux/swift-backtrace-static /staging/; \
    fi

# MARK: Runtime

FROM ${RUNTIME_IMAGE}

# curl: for the health checks of compose/docker-compose.yml (GET /health/ready).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq4 libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 replication \
    && useradd --system --uid 10001 --gid replication --home-dir /app --shell /usr/sbin/nologin replication

WORKDIR /app
COPY --from=build --chown=replication:replication /staging /app
COPY compose/image/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# Readable crash reports without a toolchain in the image.
ENV PATH=/app:$PATH \
    HTTP_HOST=0.0.0.0 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

USER replication:replication
EXPOSE 8081 8082

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["--help"]
