import Testing
@testable import Sprout
