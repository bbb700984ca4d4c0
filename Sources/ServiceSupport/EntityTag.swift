/// The `ETag` of a record (DESIGN §7): its version as a strong entity tag, `"<version>"`.
public enum EntityTag {
    /// `"<version>"`.
    public static func version(_ version: Int64) -> String {
        "\"\(version)\""
    }
}
