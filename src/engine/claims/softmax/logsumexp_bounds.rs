//! `logsumexp-bounds`: the bounds behind the max-shift.

use super::*;
use crate::kernels::softmax::{log_softmax, logsumexp};
use crate::kernels::tolerance::{LOG_SOFTMAX_ULPS, LOGSUMEXP_ULPS, relative, ulp};

fn lse_bounds(c: &Case) -> CaseOutcome {
    let z = f(c.v("z"));
    let l = logsumexp(&z);
    let m = z[argmax(&z)];
    let hi = m + (z.len() as f64).ln();
    let bound = relative::<f64>(LOGSUMEXP_ULPS) * (m.abs() + hi.abs()) + ulp(0.0f64);
    for side in [
        at_most_real("max z", m, "logsumexp(z)", l, bound),
        at_most_real("logsumexp(z)", l, "max z + ln n", hi, bound),
    ] {
        if let CaseOutcome::Found(_) = side {
            return side;
        }
    }
    let ls = log_softmax(&z);
    let direct: Vec<f64> = z.iter().map(|v| v - l).collect();
    let b2 = relative::<f64>(LOG_SOFTMAX_ULPS + LOGSUMEXP_ULPS)
        * direct.iter().fold(0.0, |a: f64, v| a.max(v.abs()))
        + ulp(0.0f64);
    match compare_real("log_softmax(z)", &ls, "z − logsumexp(z)", &direct, b2) {
        CaseOutcome::Pass { error, bound: b } => CaseOutcome::Pass {
            error: error.max((m - l).max(l - hi).max(0.0)),
            bound: b.max(bound),
        },
        other => other,
    }
}

/// The claim, its readings and their judgements.
pub fn claim() -> Claim {
    Claim {
        id: "logsumexp-bounds",
        words: "(the bounds behind the max-shift)",
        readings: vec![Reading::new(
            "a",
            "max(z) ≤ logsumexp(z) ≤ max(z) + ln n, and log_softmax(z) = z − logsumexp(z).",
            "finite z, n ≥ 1 entries",
            None,
            [in_reals(
                Holds,
                ForAll,
                || zs(1..=12, -50..=50, vec![]),
                lse_bounds,
            )],
        )],
        tests: &[
            "claims_softmax::logsumexp_bounds_f32",
            "claims_softmax::logsumexp_bounds_f64",
        ],
    }
}
