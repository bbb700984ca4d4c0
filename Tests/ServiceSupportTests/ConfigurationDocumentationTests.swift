import CommonClient
import Foundation
import ServiceSupport
import Testing

/// docs/configuration.md holds the one table of the environment variables that the services
/// and `common-client` read. These tests hold it to the code: every variable the code reads
/// has a row, each row names a variable the code reads, and its "read by" column says which
/// program reads it.
@Suite("Configuration documentation")
struct ConfigurationDocumentationTests {
    /// Rows for variables that another branch is adding to the code: documented already, not
    /// read yet (none now). A name leaves this list as soon as the code reads it; the last test
    /// says when.
    static let awaitingCode: [Reader: Set<String>] = [:]

    /// A program that reads variables, as the table's "read by" column names it.
    enum Reader: String, CaseIterable, Sendable {
        case services
        case client = "common-client"
    }

    @Test("the table lists every variable the services read, and no other as theirs")
    func services() throws {
        let documented = try Self.documented(by: .services)
        let read = Set(try ServiceConfiguration.environmentVariables())
        #expect(read.subtracting(documented).sorted() == [], "read by the services but not in docs/configuration.md")
        #expect(
            documented.subtracting(read).subtracting(Self.awaitingCode[.services, default: []]).sorted() == [],
            "in docs/configuration.md as read by the services, but they do not read it"
        )
    }

    @Test("the table lists every variable common-client reads, and no other as its")
    func client() throws {
        let documented = try Self.documented(by: .client)
        let read = Set(ClientEnvironment.Variable.allCases.map(\.rawValue))
        #expect(read.subtracting(documented).sorted() == [], "read by common-client but not in docs/configuration.md")
        #expect(
            documented.subtracting(read).subtracting(Self.awaitingCode[.client, default: []]).sorted() == [],
            "in docs/configuration.md as read by common-client, but it does not read it"
        )
    }

    @Test("each variable has one row, and every row says who reads it")
    func oneRowEach() throws {
        let rows = try Self.rows()
        #expect(rows.count >= 40, "the table was not found whole: \(rows.count) rows")
        let names = rows.map(\.name)
        #expect(Set(names).count == names.count, "a variable has more than one row")
        for row in rows {
            #expect(!row.readers.isEmpty, "\(row.name): the read-by column names neither the services nor common-client")
            #expect(!row.defaultValue.isEmpty, "\(row.name): no default")
        }
    }

    @Test("a variable waiting for its code leaves that list once the code reads it")
    func awaitingListIsCurrent() throws {
        let services = Set(try ServiceConfiguration.environmentVariables()).intersection(Self.awaitingCode[.services, default: []])
        let client = Set(ClientEnvironment.Variable.allCases.map(\.rawValue)).intersection(Self.awaitingCode[.client, default: []])
        #expect(services.sorted() == [], "the services read these now: remove them from awaitingCode")
        #expect(client.sorted() == [], "common-client reads these now: remove them from awaitingCode")
    }

    // MARK: The table

    /// One row: the variable, its default, and who reads it.
    struct Row {
        var name: String
        var defaultValue: String
        var readers: Set<Reader>
    }

    /// The variables whose rows name `reader` in the "read by" column.
    static func documented(by reader: Reader) throws -> Set<String> {
        Set(try rows().filter { $0.readers.contains(reader) }.map(\.name))
    }

    /// The rows of the table under the heading "## Variables" of docs/configuration.md, whose
    /// header is `| variable | default | read by | meaning |`.
    static func rows() throws -> [Row] {
        let text = try String(contentsOf: documentURL, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let heading = try #require(lines.firstIndex(of: "## Variables"), "docs/configuration.md has no \"## Variables\" heading")
        let tableStart = lines[heading...].firstIndex { $0.hasPrefix("|") }
        let header = try #require(tableStart, "no table under \"## Variables\"")
        let columns = cells(lines[header])
        #expect(columns == ["variable", "default", "read by", "meaning"], "the table's columns")
        var rows: [Row] = []
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = cells(line)
            guard cells.count == 4 else {
                Issue.record("a row without four cells: \(line)")
                continue
            }
            let names = cells[0].split(separator: "`", omittingEmptySubsequences: false)
            guard names.count == 3, names[0].isEmpty, names[2].isEmpty else {
                Issue.record("a first cell that is not one `VARIABLE`: \(cells[0])")
                continue
            }
            let readers: Set<Reader> =
                cells[2] == "both"
                ? Set(Reader.allCases) : Set(cells[2].split(separator: ",").compactMap { Reader(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
            rows.append(Row(name: String(names[1]), defaultValue: cells[1], readers: readers))
        }
        return rows
    }

    /// A table line's cells, trimmed. No cell of this table holds a `|`.
    static func cells(_ line: String) -> [String] {
        line.split(separator: "|", omittingEmptySubsequences: false)
            .dropFirst().dropLast()
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// docs/configuration.md, found from this file's place in the repository.
    static var documentURL: URL {
        // Tests/ServiceSupportTests/ConfigurationDocumentationTests.swift → the repository root
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/configuration.md")
    }
}
