extension Duration {
    /// The whole milliseconds of this duration (for logs and bodies).
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
