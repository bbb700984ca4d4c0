import Testing

@testable import AMQP

/// The publisher-confirm bookkeeping, frame by frame, without a broker: messages are named by
/// strings, and each step checks what it resolved.
@Suite struct ConfirmWindowTests {
    typealias Window = ConfirmWindow<String>

    /// A window with `names` sent in order (tags 1, 2, 3, …).
    static func window(sending names: [String]) -> Window {
        var window = Window()
        for name in names { window.sent(name) }
        return window
    }

    /// What one confirm frame resolved, in the order the window reported it.
    static func confirm(_ window: inout Window, tag: UInt64, multiple: Bool = false, nacked: Bool = false) -> [String] {
        var resolved: [String] = []
        window.confirm(tag: tag, multiple: multiple, nacked: nacked) { name, resolution in
            resolved.append("\(name):\(resolution)")
        }
        return resolved
    }

    /// The message a basic.return of `body` (of any body when nil) matched, as the window reports it.
    static func returned(_ window: inout Window, body: String? = nil) -> String? {
        window.returned { body == nil || $0 == body }
    }

    @Test func tagsCountFromOneInSendingOrder() {
        var window = Window()
        #expect(window.sent("a") == 1)
        #expect(window.sent("b") == 2)
        #expect(window.nextTag == 3)
        #expect(window.count == 2)
    }

    @Test func aMultipleAckSettlesEveryTagUpToItsOwnAndNoMore() {
        var window = Self.window(sending: ["a", "b", "c", "d"])
        #expect(Self.confirm(&window, tag: 3, multiple: true) == ["a:acked", "b:acked", "c:acked"])
        #expect(window.count == 1)
        #expect(Self.confirm(&window, tag: 4, multiple: true) == ["d:acked"])
        #expect(window.isEmpty)
    }

    @Test func aMultipleAckAfterSingleAcksDoesNotSettleTheirMessagesTwice() {
        var window = Self.window(sending: ["a", "b", "c"])
        #expect(Self.confirm(&window, tag: 2) == ["b:acked"])
        #expect(Self.confirm(&window, tag: 3, multiple: true) == ["a:acked", "c:acked"])
        #expect(window.isEmpty)
    }

    @Test func outOfOrderAcksAndNacksSettleOnlyTheirOwnMessage() {
        var window = Self.window(sending: ["a", "b", "c"])
        #expect(Self.confirm(&window, tag: 3) == ["c:acked"])
        // "c" is settled but still counts against the window until the older ones are.
        #expect(window.count == 3)
        #expect(Self.confirm(&window, tag: 1, nacked: true) == ["a:nacked"])
        #expect(window.count == 2)
        #expect(Self.confirm(&window, tag: 2) == ["b:acked"])
        #expect(window.isEmpty)
    }

    @Test func aConfirmRepeatedOrForAnUnknownTagSettlesNothing() {
        var window = Self.window(sending: ["a", "b"])
        #expect(Self.confirm(&window, tag: 2) == ["b:acked"])
        #expect(Self.confirm(&window, tag: 2) == [])
        #expect(Self.confirm(&window, tag: 9) == [])
        #expect(Self.confirm(&window, tag: 9, multiple: true) == ["a:acked"])
        #expect(window.isEmpty)
    }

    @Test func aNackWithMultipleRefusesEveryMessageUpToItsTag() {
        var window = Self.window(sending: ["a", "b", "c"])
        #expect(Self.confirm(&window, tag: 2, multiple: true, nacked: true) == ["a:nacked", "b:nacked"])
        #expect(Self.confirm(&window, tag: 3) == ["c:acked"])
    }

    @Test func aMessageReturnedBeforeItsConfirmIsRefusedEvenWhenAcked() {
        var window = Self.window(sending: ["a", "b", "c"])
        #expect(Self.returned(&window, body: "b") == "b")
        // The return settles nothing: its confirm is still to come.
        #expect(window.count == 3)
        #expect(Self.confirm(&window, tag: 3, multiple: true) == ["a:acked", "b:returned", "c:acked"])
    }

    @Test func aSingleAckOfAReturnedMessageResolvesItAsReturned() {
        var window = Self.window(sending: ["a"])
        #expect(Self.returned(&window) == "a")
        #expect(Self.confirm(&window, tag: 1) == ["a:returned"])
    }

    @Test func aReturnMatchesTheOldestMessageNotReturnedOrSettledYet() {
        var window = Self.window(sending: ["x", "x", "x"])
        #expect(Self.confirm(&window, tag: 1) == ["x:acked"])
        #expect(Self.returned(&window, body: "x") == "x")
        #expect(Self.returned(&window, body: "x") == "x")
        #expect(Self.returned(&window, body: "x") == nil)
        #expect(Self.confirm(&window, tag: 3, multiple: true) == ["x:returned", "x:returned"])
    }

    @Test func aReturnThatMatchesNothingRefusesNothing() {
        var window = Self.window(sending: ["a"])
        #expect(Self.returned(&window, body: "z") == nil)
        #expect(Self.confirm(&window, tag: 1) == ["a:acked"])
    }

    @Test func abandoningFailsTheUnsettledMessagesAndKeepsTheNumbering() {
        var window = Self.window(sending: ["a", "b", "c"])
        #expect(Self.confirm(&window, tag: 2) == ["b:acked"])
        var abandoned: [String] = []
        window.abandonAll { abandoned.append($0) }
        #expect(abandoned == ["a", "c"])
        #expect(window.isEmpty)
        // The channel goes on: a late confirm of an abandoned tag settles nothing, new messages go on from 4.
        #expect(Self.confirm(&window, tag: 3) == [])
        #expect(window.sent("d") == 4)
        #expect(Self.confirm(&window, tag: 4, multiple: true) == ["d:acked"])
    }

    @Test func afterTheChannelClosedTagsStartAgainAtOne() {
        var window = Self.window(sending: ["a", "b"])
        var abandoned: [String] = []
        window.channelClosed { abandoned.append($0) }
        #expect(abandoned == ["a", "b"])
        #expect(window.sent("c") == 1)
        #expect(window.sent("d") == 2)
        // Tag 1 now means "c" (the new channel's first message), never the lost "a".
        #expect(Self.confirm(&window, tag: 1) == ["c:acked"])
        #expect(Self.confirm(&window, tag: 2, nacked: true) == ["d:nacked"])
    }

    @Test func aFullWindowDrainsAndRefillsWithoutLosingTrackOfTags() {
        var window = Window(initialCapacity: 4)
        var settled = 0
        for round in 0..<10 {
            for index in 0..<8 { window.sent("\(round).\(index)") }
            // Even tags first, then the rest in one multiple ack.
            for tag in stride(from: window.nextTag - 7, to: window.nextTag, by: 2) {
                settled += Self.confirm(&window, tag: tag).count
            }
            settled += Self.confirm(&window, tag: window.nextTag - 1, multiple: true).count
            #expect(window.isEmpty)
        }
        #expect(settled == 80)
        #expect(window.nextTag == 81)
    }
}
