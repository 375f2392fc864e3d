/// A first-in first-out queue between greenlets — gevent's `Queue`. See ``GreenletQueue``.
///
/// ```swift
/// let queue = Queue<String>(maxSize: 100)   // nil: unbounded
/// try await queue.put("job")                // parks while full
/// let job = try await queue.get(timeout: 1) // parks while empty; QueueError.empty on timeout
/// ```
public typealias Queue<Element: Sendable> = GreenletQueue<FIFOBuffer<Element>>

/// A FIFO queue whose items are counted until marked done — gevent's `JoinableQueue`:
/// consumers call ``GreenletQueue/taskDone()`` per item, and ``GreenletQueue/join(timeout:)-(Double?)``
/// waits until all are done. Every Sprout queue counts this way, so this is ``Queue``.
public typealias JoinableQueue<Element: Sendable> = GreenletQueue<FIFOBuffer<Element>>
