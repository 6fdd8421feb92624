import NetcDriver

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
Netc.relaunchForFasterBLASIfNeeded(arguments)
exit(Netc.run(arguments))
