// postgres-bench: autocommit INSERT transactions per second through the Swift Postgres layer.
// The options and the measurement live in PostgresBench.swift.
let options = PostgresBench.parseOrExit()
do {
    try await options.benchmark()
} catch {
    PostgresBench.exit(withError: error)
}
