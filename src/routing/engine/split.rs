//! A queue's split of tickets between groups by weight: whose turn it is, and the stored
//! counts that keep the ratio over time.

use std::collections::BTreeMap;

/// A queue's split of its tickets between groups by weight, with how many tickets each
/// group got so far, so the ratio holds over time. Applies to tickets without a group
/// or already in one of the split's groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// (group id, weight), in the admin's order.
    pub weights: Vec<(i64, i64)>,
    /// Tickets each group got under the split so far.
    pub counts: BTreeMap<i64, i64>,
}

impl Split {
    pub fn is_on(&self) -> bool {
        !self.weights.is_empty()
    }

    pub(super) fn applies_to(&self, group: Option<i64>) -> bool {
        self.is_on() && group.is_none_or(|g| self.weights.iter().any(|(id, _)| *id == g))
    }

    /// The groups, the one furthest behind its share first (ties: the admin's order).
    /// Behind = weight × (total + 1) − count × total weight, in integers.
    pub(super) fn order(&self, counts: &BTreeMap<i64, i64>) -> Vec<i64> {
        let total: i64 = self
            .weights
            .iter()
            .map(|(g, _)| counts.get(g).copied().unwrap_or(0))
            .sum();
        let weight_sum: i64 = self.weights.iter().map(|(_, w)| *w).sum();
        let mut order: Vec<(i64, usize, i64)> = self
            .weights
            .iter()
            .enumerate()
            .map(|(at, (g, w))| {
                let got = counts.get(g).copied().unwrap_or(0);
                (w * (total + 1) - got * weight_sum, at, *g)
            })
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        order.into_iter().map(|(_, _, g)| g).collect()
    }

    /// The words for the log: the ratio and where the chosen group stands.
    pub(super) fn note(&self, group: i64, counts: &BTreeMap<i64, i64>) -> String {
        let ratio = self
            .weights
            .iter()
            .map(|(_, w)| w.to_string())
            .collect::<Vec<_>>()
            .join("/");
        let total: i64 = self
            .weights
            .iter()
            .map(|(g, _)| counts.get(g).copied().unwrap_or(0))
            .sum();
        let got = counts.get(&group).copied().unwrap_or(0);
        format!("split {ratio}: group {group}'s turn ({got} of {total} so far)")
    }

    /// Reads the stored counts `"group:count,..."`; bad parts are dropped.
    pub fn parse_counts(stored: &str) -> BTreeMap<i64, i64> {
        stored
            .split(',')
            .filter_map(|pair| {
                let (g, n) = pair.split_once(':')?;
                Some((g.parse().ok()?, n.parse().ok()?))
            })
            .collect()
    }

    pub fn counts_to_stored(counts: &BTreeMap<i64, i64>) -> String {
        counts
            .iter()
            .map(|(g, n)| format!("{g}:{n}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}
