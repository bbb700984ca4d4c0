import Postgres
import Testing

/// URL and conninfo handling, parsed by libpq itself; needs no server.
@Suite struct PostgresConfigurationTests {
    @Test func urlIsParsedByLibpq() throws {
        let configuration = PostgresConfiguration(
            connectionString: "postgres://alice:secret@db.example:6543/shop?sslmode=disable"
        )
        let parameters = try configuration.connectionParameters()
        #expect(parameters["host"] == "db.example")
        #expect(parameters["port"] == "6543")
        #expect(parameters["user"] == "alice")
        #expect(parameters["dbname"] == "shop")
        #expect(parameters["sslmode"] == "disable")
        #expect(parameters["client_encoding"] == "UTF8")
        #expect(parameters["connect_timeout"] == "5")
        #expect(parameters["password"] == nil, "the password must never be reported")
        #expect(configuration.poolSize == 10)
    }

    @Test func conninfoAndOverrides() throws {
        var configuration = PostgresConfiguration(
            connectionString: "host=127.0.0.1 port=5433 dbname=first connect_timeout=9",
            poolSize: 3
        )
        configuration.applicationName = "order-service"
        configuration = configuration.withDatabase("second")
        let parameters = try configuration.connectionParameters()
        #expect(parameters["host"] == "127.0.0.1")
        #expect(parameters["port"] == "5433")
        #expect(parameters["dbname"] == "second")
        #expect(parameters["application_name"] == "order-service")
        #expect(parameters["connect_timeout"] == "9", "the connection string's timeout wins")
        #expect(configuration.poolSize == 3)
    }

    @Test func connectTimeoutRoundsUpToWholeSeconds() throws {
        var configuration = PostgresConfiguration(connectionString: "host=localhost")
        configuration.connectTimeout = .milliseconds(2500)
        #expect(try configuration.connectionParameters()["connect_timeout"] == "3")
        configuration.connectTimeout = .milliseconds(100)
        #expect(try configuration.connectionParameters()["connect_timeout"] == "2", "libpq's minimum")
    }

    @Test(arguments: ["postgres://host/db?nosuchoption=1", "host=localhost dbname", "mysql://x/y"])
    func invalidConnectionStringThrows(connectionString: String) {
        #expect {
            try PostgresConfiguration(connectionString: connectionString).connectionParameters()
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .invalidConfiguration && !error.message.isEmpty
        }
    }

    @Test("libpq's TLS parameters in the URL reach libpq, also when a test or pool names another database")
    func tlsParametersPassThrough() throws {
        let url = "postgres://svc:pw@db.internal:5432/svc?sslmode=verify-full&sslrootcert=/etc/ca.crt&sslcert=/etc/c.crt&sslkey=/etc/c.key"
        for configuration in [PostgresConfiguration(connectionString: url), PostgresConfiguration(connectionString: url).withDatabase("other")] {
            let parameters = try configuration.connectionParameters()
            #expect(parameters["sslmode"] == "verify-full")
            #expect(parameters["sslrootcert"] == "/etc/ca.crt")
            #expect(parameters["sslcert"] == "/etc/c.crt")
            #expect(parameters["sslkey"] == "/etc/c.key")
            #expect(parameters["host"] == "db.internal")
        }
    }
}
