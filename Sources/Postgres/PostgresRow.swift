import CLibPQ

/// One row of a ``PostgresQueryResult``; decode its columns by index or by exact name.
public struct PostgresRow: Sendable {
    let handle: PostgresResultHandle
    let row: Int

    /// The number of columns.
    public var columnCount: Int { self.handle.columnCount }

    /// Decodes column `column` (0-based) as `T`.
    ///
    /// - Throws: ``PostgresError/Code/decoding`` naming the column when it is NULL and `T` is not
    ///   optional, when the index is out of range, or when the text is not a valid `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as: T.Type = T.self) throws -> T {
        guard column >= 0, column < self.handle.columnCount else {
            throw PostgresError(
                code: .decoding,
                message: "column index \(column) out of range (\(self.handle.columnCount) columns)"
            )
        }
        return try self.decodeValue(column, as: T.self)
    }

    /// Decodes the column named exactly `column` (as the server spelled it, no case folding) as `T`.
    ///
    /// - Throws: ``PostgresError/Code/decoding`` when there is no such column, or as
    ///   ``decode(_:as:)-(Int,_)``.
    public func decode<T: PostgresDecodable>(_ column: String, as: T.Type = T.self) throws -> T {
        guard let index = self.handle.columnIndex(named: column) else {
            throw PostgresError(code: .decoding, message: "no column named \"\(column)\"")
        }
        return try self.decodeValue(index, as: T.self)
    }

    /// Whether the value in column `column` is NULL.
    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(self.handle.result, Int32(self.row), Int32(column)) != 0
    }

    private func decodeValue<T: PostgresDecodable>(_ column: Int, as: T.Type) throws -> T {
        let result = self.handle.result
        if PQgetisnull(result, Int32(self.row), Int32(column)) != 0 {
            if let nullable = T.self as? any PostgresNullDecodable.Type {
                // The cast back cannot fail: `nullable` is `T.self`.
                if let value = nullable.postgresNull as? T {
                    return value
                }
            }
            throw PostgresError(
                code: .decoding,
                message: "column \"\(self.handle.columnName(column))\" is NULL; decode it as \(T.self)? instead"
            )
        }
        guard let bytes = PQgetvalue(result, Int32(self.row), Int32(column)) else {
            throw PostgresError(code: .decoding, message: "column \"\(self.handle.columnName(column))\" has no value")
        }
        do {
            return try T(postgresText: String(cString: bytes))
        } catch let error as PostgresError {
            var error = error
            error.message = "column \"\(self.handle.columnName(column))\": \(error.message)"
            throw error
        }
    }
}
