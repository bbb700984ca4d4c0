/// Ids to pick from at random, with insert and remove in O(1): the customers that orders
/// and changes may go to, the orders that may be cancelled.
struct TargetPool {
    private var ids: [String] = []
    private var positions: [String: Int] = [:]

    /// Whether there is nothing to pick.
    var isEmpty: Bool { ids.isEmpty }

    /// Adds `id` (once).
    mutating func insert(_ id: String) {
        guard positions[id] == nil else { return }
        positions[id] = ids.count
        ids.append(id)
    }

    /// Removes `id`, if it is there.
    mutating func remove(_ id: String) {
        guard let position = positions.removeValue(forKey: id) else { return }
        let last = ids.removeLast()
        if position < ids.count {
            ids[position] = last
            positions[last] = position
        }
    }

    /// An id at random; nil when there is none.
    func randomElement(using generator: inout some RandomNumberGenerator) -> String? {
        ids.randomElement(using: &generator)
    }
}
