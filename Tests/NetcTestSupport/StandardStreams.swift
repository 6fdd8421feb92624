import Foundation

/// Held while a test runs netc in-process. netc writes to file descriptors 1 and 2, and
/// the tests of every suite share one process: a capture that redirects them to its files
/// (NetcDriverTests' `capture`) would otherwise take in another test's output.
public let standardStreamsLock = NSLock()

/// `body` with the standard streams to itself (`standardStreamsLock` held).
public func holdingStandardStreams<T>(_ body: () throws -> T) rethrows -> T {
  standardStreamsLock.lock()
  defer { standardStreamsLock.unlock() }
  return try body()
}
