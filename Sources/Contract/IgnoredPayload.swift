/// Stands in for `data` when only the envelope's own fields are read (the type decides how to
/// read `data`), or when `data` is already JSON text (``EventEnvelope/body(dataJSON:)``).
public struct IgnoredPayload: Codable, Sendable {
    /// Creates the placeholder.
    public init() {}
    /// Accepts any JSON value.
    public init(from decoder: any Decoder) throws {}
    /// Encodes nothing.
    public func encode(to encoder: any Encoder) throws {}
}
