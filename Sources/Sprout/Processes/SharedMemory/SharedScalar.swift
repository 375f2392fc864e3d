/// A fixed-width number that ``SharedValue`` and ``SharedArray`` can keep in shared memory.
public protocol SharedScalar: BitwiseCopyable, Sendable {}

extension Int: SharedScalar {}
extension Int8: SharedScalar {}
extension Int16: SharedScalar {}
extension Int32: SharedScalar {}
extension Int64: SharedScalar {}
extension UInt: SharedScalar {}
extension UInt8: SharedScalar {}
extension UInt16: SharedScalar {}
extension UInt32: SharedScalar {}
extension UInt64: SharedScalar {}
extension Float: SharedScalar {}
extension Double: SharedScalar {}
