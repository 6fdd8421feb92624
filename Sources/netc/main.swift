import NetcDriver

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

exit(Netc.run(Array(CommandLine.arguments.dropFirst())))
