import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The blocking libpq calls. Each runs on the connection's thread with the connection's lock held
/// (see ``PostgresConnectionHandle/run(cancellable:_:)``).
extension PostgresConnectionHandle {
    /// `PQconnectdbParams` with the configuration's parameters; the first `dbname` is expanded.
    static func openConnection(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
        let parameters = configuration.libpqParameters
        let keywords = parameters.map { strdup($0.keyword).map { UnsafePointer($0) } } + [nil]
        let values = parameters.map { strdup($0.value).map { UnsafePointer($0) } } + [nil]
        defer {
            for pointer in keywords + values {
                free(UnsafeMutablePointer(mutating: pointer))
            }
        }
        guard let connection = PQconnectdbParams(keywords, values, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = errorMessage(connection)
            PQfinish(connection)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        return connection
    }

    /// One statement over the extended protocol, parameters bound in text format: prepared once
    /// per connection and then executed by name (`PQexecPrepared`), or unnamed (`PQexecParams`)
    /// when `statements` is full.
    static func query(
        _ connection: OpaquePointer,
        _ sql: String,
        _ binds: [(any PostgresEncodable)?],
        statements: PreparedStatements
    ) throws -> PostgresQueryResult {
        let name = try statements.name(for: sql, parameterCount: binds.count, on: connection)
        let texts = binds.map { $0?.postgresText }
        let result = withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: max(texts.count, 1)) { pointers in
            withCStrings(texts, from: 0, into: pointers) {
                if let name {
                    PQexecPrepared(connection, name, Int32(texts.count), pointers.baseAddress, nil, nil, 0)
                } else {
                    PQexecParams(connection, sql, Int32(texts.count), nil, pointers.baseAddress, nil, nil, 0)
                }
            }
        }
        do {
            return try self.consume(connection, result)
        } catch let error as PostgresError where error.sqlState == "0A000" && error.message.contains("cached plan") {
            // "cached plan must not change result type": a table changed under the statement.
            statements.invalidate(sql, on: connection)
            throw error
        }
    }

    /// Several statements in one round trip (libpq's pipeline mode): all are sent, then one sync,
    /// then every result is read. They run in order; once one fails, the server skips the rest
    /// (an implicit transaction, or the explicit one they are part of, is then failed). Returns
    /// every statement's result, or throws the first error, once the connection is ready again.
    static func pipeline(
        _ connection: OpaquePointer,
        _ steps: [(sql: String, binds: [(any PostgresEncodable)?])],
        statements: PreparedStatements
    ) throws -> [PostgresQueryResult] {
        // Prepared first (once per connection, outside the pipeline), so the pipeline only executes.
        let names = try steps.map { try statements.name(for: $0.sql, parameterCount: $0.binds.count, on: connection) }
        guard PQenterPipelineMode(connection) == 1 else { throw self.connectionError(connection) }
        defer { _ = PQexitPipelineMode(connection) }
        for (step, name) in zip(steps, names) {
            let texts = step.binds.map { $0?.postgresText }
            let sent = withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: max(texts.count, 1)) { pointers in
                withCStrings(texts, from: 0, into: pointers) {
                    if let name {
                        PQsendQueryPrepared(connection, name, Int32(texts.count), pointers.baseAddress, nil, nil, 0)
                    } else {
                        PQsendQueryParams(connection, step.sql, Int32(texts.count), nil, pointers.baseAddress, nil, nil, 0)
                    }
                }
            }
            guard sent == 1 else { throw self.connectionError(connection) }
        }
        guard PQpipelineSync(connection) == 1 else { throw self.connectionError(connection) }
        var results: [PostgresQueryResult] = []
        var firstError: (any Error)?
        for step in steps {
            guard let result = PQgetResult(connection) else { throw self.connectionError(connection) }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
            } else {
                do {
                    results.append(try self.consume(connection, result))
                } catch let error as PostgresError where error.sqlState == "0A000" && error.message.contains("cached plan") {
                    statements.invalidate(step.sql, on: connection)
                    firstError = firstError ?? error
                } catch {
                    firstError = firstError ?? error
                }
            }
            // Each statement's results end with a NULL.
            while let extra = PQgetResult(connection) { PQclear(extra) }
        }
        guard let sync = PQgetResult(connection) else { throw self.connectionError(connection) }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        if let firstError { throw firstError }
        guard synced, results.count == steps.count else { throw self.connectionError(connection) }
        return results
    }

    /// Keeps every parameter's C string alive while `body` runs, without copying native strings.
    private static func withCStrings<R>(
        _ texts: [String?],
        from index: Int,
        into pointers: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>,
        _ body: () -> R
    ) -> R {
        guard index < texts.count else { return body() }
        guard let text = texts[index] else {
            pointers[index] = nil
            return withCStrings(texts, from: index + 1, into: pointers, body)
        }
        return text.withCString { pointer in
            pointers[index] = pointer
            return withCStrings(texts, from: index + 1, into: pointers, body)
        }
    }

    /// Any number of statements over the simple protocol (`PQsendQuery`); every result is checked
    /// and the first error is thrown after the connection is ready again.
    static func execute(_ connection: OpaquePointer, _ sql: String) throws {
        guard PQsendQuery(connection, sql) == 1 else {
            throw self.connectionError(connection)
        }
        var firstError: (any Error)?
        while let result = PQgetResult(connection) {
            do {
                _ = try self.consume(connection, result)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError {
            throw firstError
        }
        if PQstatus(connection) == CONNECTION_BAD {
            throw self.connectionError(connection)
        }
    }

    /// Checks a result's status, turns errors into ``PostgresError`` and frees what is not kept.
    static func consume(_ connection: OpaquePointer, _ result: OpaquePointer?) throws -> PostgresQueryResult {
        guard let result else {
            throw self.connectionError(connection)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK:
            let affected = self.affectedRows(result)
            PQclear(result)
            return PostgresQueryResult(handle: nil, affectedRows: affected)
        case PGRES_TUPLES_OK:
            return PostgresQueryResult(handle: PostgresResultHandle(result), affectedRows: self.affectedRows(result))
        case PGRES_EMPTY_QUERY:
            PQclear(result)
            return PostgresQueryResult(handle: nil, affectedRows: 0)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            self.abandonCopy(connection)
            throw PostgresError(code: .unsupported, message: "COPY is not supported by this client")
        default:
            let error = self.serverError(connection, result)
            PQclear(result)
            throw error
        }
    }

    /// Ends a COPY the caller started by mistake, so that the connection stays usable.
    private static func abandonCopy(_ connection: OpaquePointer) {
        _ = PQputCopyEnd(connection, "COPY is not supported by this client")
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(connection, &buffer, 0) > 0 {
            PQfreemem(buffer)
            buffer = nil
        }
    }

    /// The count in the command tag (`INSERT 0 5` → 5); 0 for commands without one.
    private static func affectedRows(_ result: OpaquePointer) -> Int {
        guard var digit = PQcmdTuples(result) else { return 0 }
        var count = 0
        while digit.pointee >= 48 && digit.pointee <= 57 {
            count = count &* 10 &+ Int(digit.pointee - 48)
            digit += 1
        }
        return count
    }

    /// A server error with its diagnostic fields, or libpq's own error (connection lost, ...).
    private static func serverError(_ connection: OpaquePointer, _ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let message =
            field(PostgresDiagnostic.primaryMessage)
            ?? PQresultErrorMessage(result).map { String(cString: $0).trimmingTrailingWhitespace() }
            ?? errorMessage(connection)
        return PostgresError(
            code: PQstatus(connection) == CONNECTION_BAD ? .connectionLost : .server,
            message: message.isEmpty ? errorMessage(connection) : message,
            sqlState: field(PostgresDiagnostic.sqlState),
            detail: field(PostgresDiagnostic.detail),
            constraint: field(PostgresDiagnostic.constraint)
        )
    }

    private static func connectionError(_ connection: OpaquePointer) -> PostgresError {
        PostgresError(
            code: PQstatus(connection) == CONNECTION_BAD ? .connectionLost : .server,
            message: errorMessage(connection)
        )
    }

    /// libpq's last error message on the connection, without the trailing newline.
    static func errorMessage(_ connection: OpaquePointer) -> String {
        guard let message = PQerrorMessage(connection) else { return "unknown libpq error" }
        let text = String(cString: message).trimmingTrailingWhitespace()
        return text.isEmpty ? "unknown libpq error" : text
    }
}
