//! `argmax-dot-scale-invariance` (`proofs/argmax-dot-scale-invariance.md`): argmax-dot ignores the
//! scale of x; the nearest token does not.

use super::*;

fn scaled(a: &Q, x: &[Q]) -> Vec<Q> {
    x.iter().map(|v| a.clone() * v).collect()
}

fn scale_invariant_argmax(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let a = c.p("α").rational();
    if !lt(&Q::zero(), &a) {
        return CaseOutcome::Skip;
    }
    let (la, l) = (scores(&scaled(&a, &x), &ts), scores(&x, &ts));
    let (p, r) = (argmax(&la), argmax(&l));
    // A change counts only when strict: the top token at α·x is below the top one at x.
    picks_differ(
        lt(&l[p], &l[r]),
        ("argmax_i (α·x)·wᵢ", p, "logits", &la),
        by_logits(r, &l),
    )
}

fn nearest_changes(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let a = c.p("α").rational();
    if !lt(&Q::zero(), &a) {
        return CaseOutcome::Skip;
    }
    let ax = scaled(&a, &x);
    let (da, d) = (sq_dists(&ax, &ts), sq_dists(&x, &ts));
    let (Some(p), Some(r)) = (unique_argmin(&da), unique_argmin(&d)) else {
        return CaseOutcome::Exact; // a tie: no unique nearest token to compare
    };
    let at_ax = format!("nearest token to α·x (α·x = {})", show_q(&ax));
    picks_differ(
        p != r,
        (at_ax, p, "squared distances", &da),
        ("nearest token to x", r, "squared distances", &d),
    )
}

fn scale_limits(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let l = scores(&x, &ts);
    let norms: Vec<Q> = ts.iter().map(|v| dot(v, v)).collect();
    // t → ∞: above t* = max_j (|w_k|² − |w_j|²) / (2(x·w_k − x·w_j)), nearest(t·x) = k.
    if let Some(k) = unique_argmax(&l) {
        let mut tstar = Q::zero();
        for j in (0..ts.len()).filter(|&j| j != k) {
            let v = (norms[k].clone() - norms[j].clone())
                / (exact(2.0) * (l[k].clone() - l[j].clone()));
            if v > tstar {
                tstar = v;
            }
        }
        let big = tstar + exact(1.0);
        let d = sq_dists(&scaled(&big, &x), &ts);
        let n = argmin(&d);
        if lt(&d[n], &d[k]) {
            return CaseOutcome::Found(Evidence::exact(
                format!("nearest token to t·x, t = {big}"),
                winner(n, "squared distances", &d),
                "argmax_i x·wᵢ",
                winner(k, "logits", &l),
            ));
        }
    }
    // t → 0⁺: for t < 1/(8(1 + max|x·wⱼ|)), nearest(t·x) has the smallest norm.
    let m = l.iter().map(|v| v.abs()).max().unwrap_or_else(Q::zero);
    let small = Q::new(1.into(), 8.into()) / (exact(1.0) + m);
    let d = sq_dists(&scaled(&small, &x), &ts);
    let n = argmin(&d);
    let min = &norms[argmin(&norms)];
    if lt(min, &norms[n]) {
        return CaseOutcome::Found(Evidence::exact(
            format!("|nearest token to t·x|², t = {small}"),
            &norms[n],
            "min_j |wⱼ|²",
            min,
        ));
    }
    CaseOutcome::Exact
}

/// The claim `argmax-dot-scale-invariance` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "argmax-dot-scale-invariance",
        words: "Thus, direction matters more than distance.",
        readings: vec![
            Reading::new(
                "a",
                "argmax_i (α·x)·wᵢ is the same for every α > 0.",
                "α > 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || xs_tokens(&["x"], 1..=6, 1, 1..=5, vec![("α", pow2(-6..=6))]),
                    scale_invariant_argmax,
                )],
            ),
            Reading::new(
                "b",
                "The nearest token to α·x can change with α.",
                "α > 0",
                None,
                [in_reals(
                    Holds,
                    Exists,
                    || xs_tokens(&["x"], 2..=4, 2, 1..=3, vec![("α", int(1..=4))]),
                    nearest_changes,
                )],
            ),
            Reading::new(
                "c",
                "For all large t, nearest(t·x) = argmax-dot(x) (unique max); as t → 0⁺, nearest(t·x) is a token of smallest norm.",
                "t > 0; a unique top logit for the first part",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || xs_tokens(&["x"], 1..=6, 1, 1..=4, vec![]),
                    scale_limits,
                )],
            ),
        ],
        tests: &[
            "claims_geometry::argmax_dot_scale_invariant_exact",
            "claims_geometry::nearest_changes_with_scale_exact",
            "claims_geometry::scale_limits_exact",
        ],
    }
}
