/// A queue that hands out its smallest item first — gevent's `PriorityQueue`. Put tuples
/// as a `struct` conforming to `Comparable` (a priority plus the payload). See ``GreenletQueue``.
public typealias PriorityQueue<Element: Sendable & Comparable> = GreenletQueue<PriorityBuffer<Element>>
