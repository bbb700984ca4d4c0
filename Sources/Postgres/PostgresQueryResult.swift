import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one libpq `PGresult` and frees it when the last row referring to it is gone.
///
/// `@unchecked Sendable` is safe: a `PGresult` does not refer to its connection and is never
/// modified after libpq returns it (libpq documents that results may be passed between threads
/// and read concurrently); it is freed exactly once, in `deinit`.
final class PostgresResultHandle: @unchecked Sendable {
    /// The `PGresult`, read-only.
    let result: OpaquePointer
    /// `PQntuples`, read once.
    let rowCount: Int
    /// `PQnfields`, read once.
    let columnCount: Int

    init(_ result: OpaquePointer) {
        self.result = result
        self.rowCount = Int(PQntuples(result))
        self.columnCount = Int(PQnfields(result))
    }

    deinit {
        PQclear(self.result)
    }

    /// The index of the column named exactly `name` (no case folding, unlike `PQfnumber`).
    func columnIndex(named name: String) -> Int? {
        name.withCString { wanted in
            for column in 0..<self.columnCount {
                if let columnName = PQfname(self.result, Int32(column)), strcmp(columnName, wanted) == 0 {
                    return column
                }
            }
            return nil
        }
    }

    func columnName(_ column: Int) -> String {
        guard let name = PQfname(self.result, Int32(column)) else { return "?column?" }
        return String(cString: name)
    }
}

/// The rows a statement returned, and how many rows it changed.
///
/// Values stay in libpq's text form until a row decodes them, so a result is cheap to hold.
public struct PostgresQueryResult: Sendable, RandomAccessCollection {
    let handle: PostgresResultHandle?

    /// The number of rows inserted, updated, deleted, selected, ... according to the command tag.
    public var affectedRows: Int

    init(handle: PostgresResultHandle?, affectedRows: Int) {
        self.handle = handle
        self.affectedRows = affectedRows
    }

    /// The rows, in the order the server sent them.
    public var rows: [PostgresRow] { Array(self) }

    /// The names of the result's columns, in order; empty for a statement without rows.
    public var columnNames: [String] {
        guard let handle = self.handle else { return [] }
        return (0..<handle.columnCount).map(handle.columnName)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.handle?.rowCount ?? 0 }

    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < self.endIndex, "row index out of range")
        // Force-unwrap is safe: endIndex is 0 without a handle, so the precondition failed.
        return PostgresRow(handle: self.handle!, row: position)
    }
}
