import ArgumentParser
import CommonClient

/// Runs `Command` through `AsyncParsableCommand`'s entry point (top-level code
/// would otherwise pick `ParsableCommand`'s synchronous one).
func runAsync<Command: AsyncParsableCommand>(_: Command.Type) async {
    await Command.main()
}

await runAsync(CommonClientCommand.self)
