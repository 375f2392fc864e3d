/// A last-in first-out queue between greenlets — gevent's `LifoQueue`. See ``GreenletQueue``.
public typealias LifoQueue<Element: Sendable> = GreenletQueue<LIFOBuffer<Element>>
