//! Expiry-ordered eviction, shared by the replay guard and the consent stores: entries are
//! indexed by `(expiry, key)`, so the expired ones are always the first.

use std::collections::BTreeSet;

/// Removes every `(time, key)` of `order` with `time <= now`, oldest first, handing each key
/// to `evict` (which drops the entry it indexes); returns how many were removed.
pub(crate) fn drain_expired<K: Ord>(
    order: &mut BTreeSet<(u64, K)>,
    now: u64,
    mut evict: impl FnMut(K),
) -> usize {
    let mut removed = 0;
    while order.first().is_some_and(|(time, _)| *time <= now) {
        if let Some((_, key)) = order.pop_first() {
            evict(key);
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drains_up_to_and_including_now_in_order() {
        let mut order: BTreeSet<(u64, &str)> =
            [(5, "e"), (1, "a"), (3, "c"), (3, "b"), (9, "z")].into();
        let mut seen = Vec::new();
        assert_eq!(drain_expired(&mut order, 5, |k| seen.push(k)), 4);
        assert_eq!(seen, ["a", "b", "c", "e"]);
        assert_eq!(order.into_iter().collect::<Vec<_>>(), [(9, "z")]);
        let mut empty: BTreeSet<(u64, u8)> = BTreeSet::new();
        assert_eq!(drain_expired(&mut empty, u64::MAX, |_| ()), 0);
    }
}
