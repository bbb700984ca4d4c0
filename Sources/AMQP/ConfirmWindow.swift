import NIOCore

/// The published messages of one channel that await their publisher confirm, and what each
/// basic.ack, basic.nack and basic.return from the broker resolves.
///
/// A value with no I/O and no clock: ``AMQPConnectionLoop`` sends and reads the frames and tells
/// the window what happened; the window says which messages that settled, and how.
///
/// The rules it keeps (RabbitMQ's publisher confirms):
/// - the broker numbers the messages published on a channel in confirm mode 1, 2, 3, … (the
///   delivery tag); a new channel starts again at 1;
/// - a confirm with `multiple` settles every message up to its tag; a confirm without it settles
///   that one message, and such confirms may come in any order;
/// - a mandatory message that no queue took comes back as basic.return *before* its confirm: it is
///   refused at once, and the ack that follows does not make it a success;
/// - a confirm for a tag that is not awaited (already settled, or abandoned) settles nothing.
///
/// `Owner` is what the caller needs to finish a message (in the loop: its publish call and its
/// position there); tests use plain values. Entries live in a ring buffer, so recording a message
/// allocates nothing once the buffer has grown to the window's size.
struct ConfirmWindow<Owner> {
    /// How a message that awaited its confirm ended.
    enum Resolution: Equatable, Sendable {
        /// basic.ack: the broker has taken responsibility for the message.
        case acked
        /// basic.nack: the broker could not route or store the message.
        case nacked
        /// basic.return came before the confirm: no queue took the message, whatever confirm follows.
        case returned
    }

    private struct Entry {
        var tag: UInt64
        var owner: Owner
        /// Came back by basic.return; its confirm is still to come.
        var returned = false
        /// Confirmed out of order: stays until the older entries before it are settled too.
        var settled = false
    }

    /// Oldest first; tags increase by one from entry to entry.
    private var entries: CircularBuffer<Entry>

    /// The delivery tag the next published message gets.
    private(set) var nextTag: UInt64 = 1

    /// An empty window whose buffer holds `initialCapacity` messages before it grows.
    init(initialCapacity: Int = 16) {
        entries = CircularBuffer(initialCapacity: initialCapacity)
    }

    /// The messages from the oldest awaiting its confirm to the newest sent: what the confirm
    /// window limits (a message confirmed out of order counts until the ones before it are settled).
    var count: Int { entries.count }

    /// Whether no message awaits a confirm.
    var isEmpty: Bool { entries.isEmpty }

    /// Records a message just published on the channel; returns the delivery tag the broker gives it.
    @discardableResult
    mutating func sent(_ owner: Owner) -> UInt64 {
        let tag = nextTag
        entries.append(Entry(tag: tag, owner: owner))
        nextTag += 1
        return tag
    }

    /// A basic.ack (`nacked` false) or basic.nack for `tag`, and with `multiple` for every tag up
    /// to it: calls `resolved` once for each message this settles, oldest first.
    ///
    /// A message that came back by basic.return resolves as ``Resolution/returned`` even when acked.
    mutating func confirm(tag: UInt64, multiple: Bool, nacked: Bool, _ resolved: (Owner, Resolution) -> Void) {
        if multiple {
            while let first = entries.first, first.tag <= tag {
                entries.removeFirst()
                if !first.settled { resolved(first.owner, Self.resolution(of: first, nacked: nacked)) }
            }
        } else if let index = index(of: tag), !entries[index].settled {
            entries[index].settled = true
            resolved(entries[index].owner, Self.resolution(of: entries[index], nacked: nacked))
            while let first = entries.first, first.settled { entries.removeFirst() }
        }
    }

    /// A basic.return: the oldest message awaiting its confirm, not returned already, for which
    /// `matches` holds is refused; returns its owner (nil when none matches). Its confirm is still
    /// awaited, and resolves it as ``Resolution/returned``.
    mutating func returned(where matches: (Owner) -> Bool) -> Owner? {
        var index = entries.startIndex
        while index != entries.endIndex {
            if !entries[index].settled, !entries[index].returned, matches(entries[index].owner) {
                entries[index].returned = true
                return entries[index].owner
            }
            index = entries.index(after: index)
        }
        return nil
    }

    /// Stops waiting for every confirm (the broker blocked the connection, or it was lost): calls
    /// `abandoned` for each message not settled yet, oldest first. The channel's numbering goes on;
    /// a confirm that still comes for an abandoned tag settles nothing.
    mutating func abandonAll(_ abandoned: (Owner) -> Void) {
        for entry in entries where !entry.settled { abandoned(entry.owner) }
        entries.removeAll(keepingCapacity: true)
    }

    /// The channel closed: abandons every message (see ``abandonAll(_:)``), and numbers the
    /// messages of the channel that replaces it from 1 again, as the broker does.
    mutating func channelClosed(_ abandoned: (Owner) -> Void) {
        abandonAll(abandoned)
        nextTag = 1
    }

    private static func resolution(of entry: Entry, nacked: Bool) -> Resolution {
        entry.returned ? .returned : nacked ? .nacked : .acked
    }

    /// Where `tag` is: entries hold consecutive tags (appended in order, removed from the front
    /// or all at once), so its offset from the oldest is its position.
    private func index(of tag: UInt64) -> CircularBuffer<Entry>.Index? {
        guard let first = entries.first, tag >= first.tag, tag - first.tag < UInt64(entries.count) else { return nil }
        let index = entries.index(entries.startIndex, offsetBy: Int(tag - first.tag))
        assert(entries[index].tag == tag, "the confirm window's tags are not consecutive")
        return index
    }
}
