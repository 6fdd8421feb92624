import ArgumentParser

/// The `netc` root command: a declarative neural-network-spec compiler.
public struct Netc: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "netc",
    abstract: "Shapes, costs, solutions and kernels from declarative network specs.",
    subcommands: []
  )

  public init() {}
}
