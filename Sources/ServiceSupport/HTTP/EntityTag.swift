import Contract
import Foundation

/// The `ETag` of a record (docs/design.md#versions-and-tombstones): its version as a strong entity tag, `"<version>"`.
public enum EntityTag {
    /// `"<version>"`.
    public static func version(_ version: Int64) -> String {
        "\"\(version)\""
    }
}

/// The precondition of a change (`If-Match`, RFC 9110 §13.1.1): the versions the client
/// last saw; the change is made only if the record still has one of them.
public struct IfMatch: Sendable, Hashable {
    /// The versions that match, or nil for `*` (any version: the record must only exist).
    public var versions: [Int64]?

    /// Parses the header; nil when there is none. `*`, or a comma-separated list of entity
    /// tags: a strong tag `"<digits>"` names a version; another well-formed tag (weak, or not a
    /// version of ours) matches nothing, so the change answers 412. Throws a 400 problem for a
    /// header that is not a list of entity tags.
    public static func parse(_ header: String?) throws -> IfMatch? {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return IfMatch(versions: nil) }
        var versions: [Int64] = []
        for element in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            var tag = Substring(element.trimmingCharacters(in: .whitespaces))
            let weak = tag.hasPrefix("W/")
            if weak { tag = tag.dropFirst(2) }
            guard tag.count >= 2, tag.first == "\"", tag.last == "\"" else { throw invalid }
            let opaque = tag.dropFirst().dropLast()
            // etagc = %x21 / %x23-7E / obs-text: no quote, no space, no control character.
            guard opaque.unicodeScalars.allSatisfy({ $0.value == 0x21 || (0x23...0x7E).contains($0.value) || $0.value >= 0x80 }) else {
                throw invalid
            }
            if !weak, opaque.allSatisfy(\.isASCII), let version = Int64(opaque), version >= 1 {
                versions.append(version)
            }
        }
        return IfMatch(versions: versions)
    }

    private static var invalid: Problem {
        Problem.validation([InvalidParameter(name: "If-Match", reason: #"must be * or entity tags such as "3" (the ETag of the last read)"#)])
    }
}

/// Why a change to a record was not made.
public enum ChangeRefusal: Error, Sendable, Hashable {
    /// There is no such record (404; a deleted one included).
    case notFound(String)
    /// `If-Match` named other versions: the record is at `current` now (412).
    case versionMismatch(current: Int64)

    /// Throws ``versionMismatch(current:)`` unless `ifMatch` allows a change to a record at `version`.
    public static func check(_ ifMatch: IfMatch?, version: Int64) throws(ChangeRefusal) {
        if let versions = ifMatch?.versions, !versions.contains(version) { throw .versionMismatch(current: version) }
    }
}

extension ChangeRefusal: ProblemConvertible {
    /// 404 `not-found`, 412 `precondition-failed`.
    public var problem: Problem {
        switch self {
        case .notFound(let what): Problem.notFound(what)
        case .versionMismatch(let current):
            Problem(
                code: "precondition-failed", title: "The record has changed", status: .preconditionFailed,
                detail: "the record is at version \(current), not the one If-Match names; read it again and retry"
            )
        }
    }
}
