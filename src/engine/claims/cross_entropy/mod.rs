//! Claims about the cross-entropy loss (section "Cross-entropy"): one file per claim, and the
//! helpers they share.

mod ce_correct_logit_up;
mod ce_rewards_scale;

use super::*;

pub(crate) fn target(c: &Case) -> Option<usize> {
    let y = c.p("y").raw();
    (y >= 0 && (y as usize) < c.dim()).then_some(y as usize)
}

pub(crate) fn zy(
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    mut params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    params.insert(0, ("y", int(0..=7)));
    vectors(&["z"], dims, range, params)
}

/// The cross-entropy claims.
pub fn claims() -> Vec<Claim> {
    vec![ce_correct_logit_up::claim(), ce_rewards_scale::claim()]
}
