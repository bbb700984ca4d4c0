/// JSON string literals written directly (RFC 8259), for the few strings the hot path puts into
/// JSON it builds itself (an event's envelope, an outbox row's headers): cheaper than a
/// `JSONEncoder` per string, and the same text except that `/` stays as it is.
public enum JSONString {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var output = "\""
        output.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
        return output
    }

    /// A JSON object of string members, in the order given.
    public static func object(_ members: some Sequence<(key: String, value: String)>) -> String {
        "{" + members.map { quoted($0.key) + ":" + quoted($0.value) }.joined(separator: ",") + "}"
    }
}
