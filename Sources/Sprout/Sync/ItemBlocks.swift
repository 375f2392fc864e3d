/// A first-in first-out run of items kept in fixed-size blocks of about 4 KB, each linked to
/// the next: the store of a FIFO queue.
///
/// Why blocks rather than a ring that doubles: a producer that puts a million items before
/// its consumer runs made the ring copy everything it held at each doubling and touch twice
/// the memory it needed; here growing adds a block and copies nothing. And a block is given
/// back as soon as its last item is taken, so a queue that held a million items for a moment
/// holds one block again once drained (a ring keeps its largest size for ever). One emptied
/// block is kept aside for the next growth, so a queue that keeps crossing a block's edge
/// does not allocate every time it does.
///
/// Noncopyable: it owns its blocks and frees them, with the items still in them, when it ends.
@usableFromInline
struct ItemBlocks<Element: Sendable>: ~Copyable, @unchecked Sendable {
    // Unchecked: the blocks are reached only through this value, which its owner keeps on
    // the hub (a queue) or under its own isolation.

    /// The block items are taken from (nil when no block is held).
    @usableFromInline var head: UnsafeMutableRawPointer?
    /// The next item's place in `head`; `capacity` when `head` is used up or absent.
    @usableFromInline var headIndex: Int
    /// The block items are added to (the same as `head` while one block holds them all).
    @usableFromInline var tail: UnsafeMutableRawPointer?
    /// The next free place in `tail`; `capacity` when `tail` is full or absent, so one
    /// comparison tells an append that it needs a new block.
    @usableFromInline var tailIndex: Int
    /// A used-up block kept for the next growth.
    @usableFromInline var spare: UnsafeMutableRawPointer?
    /// How many items are held.
    @usableFromInline private(set) var count = 0
    /// How many blocks are held, the spare one included: what the store's memory comes to.
    @usableFromInline private(set) var blocksHeld = 0

    @inlinable init() {
        headIndex = Self.capacity
        tailIndex = Self.capacity
    }

    /// Items per block: a block of about 4 KB, and never fewer than 16 items.
    @inlinable static var capacity: Int {
        max(16, (4096 - itemsOffset) / MemoryLayout<Element>.stride)
    }

    /// Where a block's items start: after the link to the next block, aligned for `Element`.
    @inlinable static var itemsOffset: Int {
        let link = MemoryLayout<UnsafeMutableRawPointer?>.stride
        let alignment = MemoryLayout<Element>.alignment
        return (link + alignment - 1) / alignment * alignment
    }

    @inlinable static func items(of block: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Element> {
        (block + itemsOffset).assumingMemoryBound(to: Element.self)
    }

    @inlinable static func next(of block: UnsafeMutableRawPointer) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        block.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    /// The item ``removeFirst()`` would return, or `nil` if none is held.
    @inlinable var first: Element? {
        guard count > 0, let head else { return nil }
        if headIndex < Self.capacity { return Self.items(of: head)[headIndex] }
        return Self.items(of: Self.next(of: head).pointee!)[0]
    }

    /// Adds `item` behind the others.
    @inlinable mutating func append(_ item: consuming Element) {
        if tailIndex == Self.capacity { addBlock() }
        (Self.items(of: tail.unsafelyUnwrapped) + tailIndex).initialize(to: item)
        tailIndex &+= 1
        count &+= 1
    }

    /// Takes the first item; only called when one is held.
    @inlinable mutating func removeFirst() -> Element {
        precondition(count > 0, "Sprout: an item was taken from an empty queue store")
        if headIndex == Self.capacity { dropHead() }
        let item = (Self.items(of: head.unsafelyUnwrapped) + headIndex).move()
        headIndex &+= 1
        count &-= 1
        // Emptied: the one block left (head is tail now) is used again from its start.
        if count == 0 {
            headIndex = 0
            tailIndex = 0
        }
        return item
    }

    /// Links a block behind `tail`: the spare one, or a new one.
    @usableFromInline mutating func addBlock() {
        let block: UnsafeMutableRawPointer
        if let spare {
            block = spare
            self.spare = nil
        } else {
            block = .allocate(
                byteCount: Self.itemsOffset + Self.capacity * MemoryLayout<Element>.stride,
                alignment: max(MemoryLayout<UnsafeMutableRawPointer?>.alignment, MemoryLayout<Element>.alignment))
            blocksHeld += 1
        }
        Self.next(of: block).pointee = nil
        if let tail {
            Self.next(of: tail).pointee = block
        } else {
            head = block
            headIndex = 0
        }
        tail = block
        tailIndex = 0
    }

    /// Moves `head` on to the next block, the used-up one becoming the spare (or freed, if
    /// there is one already); only called when items are held past `head`.
    @usableFromInline mutating func dropHead() {
        let used = head.unsafelyUnwrapped
        head = Self.next(of: used).pointee
        headIndex = 0
        if spare == nil {
            spare = used
        } else {
            used.deallocate()
            blocksHeld -= 1
        }
    }

    @inlinable deinit {
        var block = head
        var index = headIndex
        var left = count
        while let current = block {
            let here = min(left, Self.capacity - index)
            (Self.items(of: current) + index).deinitialize(count: here)
            left -= here
            block = Self.next(of: current).pointee
            index = 0
            current.deallocate()
        }
        spare?.deallocate()
    }
}
