// swift-tools-version:6.1
import PackageDescription

/// Swift 6 language mode everywhere; strict concurrency is its default.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "customer-order-replication",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "customer-service", targets: ["customer-service"]),
        .executable(name: "order-service", targets: ["order-service"]),
        .executable(name: "common-client", targets: ["common-client"]),
        .executable(name: "amqp-bench", targets: ["amqp-bench"]),
        .executable(name: "postgres-bench", targets: ["postgres-bench"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Replication", targets: ["Replication"]),
        .library(name: "CustomerService", targets: ["CustomerService"]),
        .library(name: "OrderService", targets: ["OrderService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP over HTTP/protobuf only: the gRPC exporter's dependencies would double the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "CAMQPShim",
            dependencies: ["CRabbitMQ"],
            // OpenSSL, for the TLS set-up of rabbitmq-c's SSL socket (the same libssl that librabbitmq uses).
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),

        // MARK: Swift layers over the C libraries
        .target(name: "Retry", swiftSettings: swiftSettings),
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ",
                "CAMQPShim",
                "Retry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "CivilDate",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "amqp-bench",
            dependencies: [
                "AMQP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "postgres-bench",
            dependencies: [
                "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Replication: the contract between the services and the machinery that carries it
        .target(name: "CivilDate", swiftSettings: swiftSettings),
        .target(
            name: "Contract",
            dependencies: ["CivilDate", .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Replication",
            dependencies: [
                "Contract",
                "Retry",
                "AMQP",
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: HTTP contract (openapi.yaml, symlinked into each target)
        .target(
            name: "CustomerAPI",
            dependencies: ["Contract", .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "OrderAPI",
            dependencies: ["Contract", .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "OperationsAPI",
            dependencies: ["Contract", .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "ServiceClient",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // MARK: The services
        .target(
            name: "ServiceSupport",
            dependencies: [
                "Contract",
                "OperationsAPI",
                "Retry",
                "Replication",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CustomerService",
            dependencies: [
                "CustomerAPI",
                "ServiceSupport",
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OrderService",
            dependencies: [
                "OrderAPI",
                "ServiceSupport",
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "customer-service",
            dependencies: ["CustomerService"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "order-service",
            dependencies: ["OrderService"],
            swiftSettings: swiftSettings
        ),

        // MARK: The common client
        .target(
            name: "CommonClient",
            dependencies: [
                "Contract",
                "ServiceClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "common-client",
            dependencies: [
                "CommonClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        // Two tiers. A unit target is named after the library it tests and never touches a server:
        // `swift test --skip 'IntegrationTests\.'` runs them all with nothing running. A target whose
        // name ends in `IntegrationTests` needs the PostgreSQL and RabbitMQ of `scripts/local-servers`.

        // What every test target shares: the environment, databases, broker objects, waits.
        // A regular target (test targets cannot depend on each other) that only test targets use.
        .target(
            name: "TestSupport",
            dependencies: [
                "AMQP",
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RetryTests",
            dependencies: ["Retry"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AMQPTests",
            dependencies: ["AMQP"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ContractTests",
            dependencies: ["Contract"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReplicationTests",
            dependencies: ["Replication", "Contract", "AMQP", "Postgres"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceSupportTests",
            dependencies: [
                "ServiceSupport",
                "CommonClient",
                "Replication",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPContractTests",
            dependencies: [
                "CustomerService",
                "OrderService",
                "Contract",
                "Replication",
                "ServiceSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CommonClientTests",
            dependencies: ["CommonClient", "ServiceClient"],
            swiftSettings: swiftSettings
        ),

        // MARK: Integration tests (PostgreSQL and RabbitMQ)
        .testTarget(
            name: "AMQPIntegrationTests",
            dependencies: ["AMQP", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresIntegrationTests",
            dependencies: ["Postgres", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReplicationIntegrationTests",
            dependencies: [
                "Replication", "Contract", "AMQP", "Postgres", "Retry", "TestSupport", "ServiceSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemIntegrationTests",
            dependencies: [
                "CustomerService",
                "OrderService",
                "CommonClient",
                "ServiceSupport",
                "Contract",
                "Replication",
                "AMQP",
                "Postgres",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
