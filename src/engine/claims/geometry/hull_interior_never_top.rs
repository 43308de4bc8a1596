//! `hull-interior-never-top` (`proofs/hull-interior-never-top.md`): A token inside the convex hull
//! of the others is never the unique top logit.

use super::*;

/// Token 0 is Σλᵢ·uᵢ over the outer tokens u scaled by L = Σλ (so all stay integers):
/// w0 = Σλᵢuᵢ, wᵢ = L·uᵢ; every λᵢ ≥ 1, so w0 is strictly inside the hull of the others.
fn hull_case(with_bias: bool) -> BoxedStrategy<Case> {
    (1usize..=3, 1i64..=3, 1i64..=3, 1i64..=3)
        .prop_flat_map(move |(d, l0, l1, l2)| {
            let dd = d + usize::from(with_bias);
            (
                proptest::collection::vec(-4i64..=4, d),
                proptest::collection::vec(proptest::collection::vec(-4i64..=4, dd), 3),
            )
                .prop_map(move |(x, us)| {
                    let lam = [l0, l1, l2];
                    let big: i64 = lam.iter().sum();
                    let inner: Vec<i64> = (0..dd)
                        .map(|r| (0..3).map(|i| lam[i] * us[i][r]).sum())
                        .collect();
                    let mut toks = vec![inner];
                    toks.extend(
                        us.iter()
                            .map(|u| u.iter().map(|v| v * big).collect::<Vec<_>>()),
                    );
                    let mut xx = x.clone();
                    if with_bias {
                        xx.push(1);
                    }
                    Case::with_tokens(
                        vec![("x", xx)],
                        toks,
                        4,
                        vec![
                            ("λ0", Param::Int(l0)),
                            ("λ1", Param::Int(l1)),
                            ("λ2", Param::Int(l2)),
                        ],
                    )
                })
        })
        .boxed()
}

fn is_interior(c: &Case) -> bool {
    let t = c.int_tokens();
    let lam: Vec<i64> = (0..3).map(|i| c.p(&format!("λ{i}")).raw()).collect();
    let big: i64 = lam.iter().sum();
    lam.iter().all(|&l| l >= 1)
        && (0..t[0].len())
            .all(|r| t[0][r] * big == (0..3).map(|i| lam[i] * t[i + 1][r]).sum::<i64>())
}

fn hull(c: &Case, with_bias: bool) -> CaseOutcome {
    if !is_interior(c) {
        return CaseOutcome::Skip;
    }
    let mut x = q(c.v("x"));
    if with_bias {
        // the last coordinate of each token is its bias; the query's is fixed to 1.
        *x.last_mut().unwrap() = exact(1.0);
    }
    let ts = tokens_q(c);
    let l = scores(&x, &ts);
    if unique_argmax(&l) == Some(0) {
        let other = argmax(&l[1..]) + 1;
        return CaseOutcome::Found(Evidence::exact(
            "x·w0, the logit of the interior token",
            &l[0],
            format!("the largest other logit, x·{}", w(other)),
            &l[other],
        ));
    }
    if !with_bias {
        let d = sq_dists(&ts[0], &ts);
        let n = argmin(&d);
        if lt(&d[n], &d[0]) {
            return CaseOutcome::Found(Evidence::exact(
                "nearest token to w0",
                winner(n, "squared distances", &d),
                "|w0 − w0|²",
                0,
            ));
        }
    }
    CaseOutcome::Exact
}

/// The claim `hull-interior-never-top` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "hull-interior-never-top",
        words: "the token with the largest dot product (= high cosine similarity + large size)",
        readings: vec![
            Reading::new(
                "a",
                "A token strictly inside the convex hull of the other tokens is never the unique largest logit, for any x (no unembedding bias) — yet it is always its own nearest neighbour.",
                "w0 = Σλᵢwᵢ/Σλᵢ with every λᵢ > 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || hull_case(false),
                    |c| hull(c, false),
                )],
            ),
            Reading::new(
                "b",
                "With a per-token bias bᵢ the same holds for the hull of the points (wᵢ, bᵢ).",
                "(w0, b0) strictly inside the hull of the (wᵢ, bᵢ)",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || hull_case(true),
                    |c| hull(c, true),
                )],
            ),
        ],
        tests: &[
            "claims_geometry::hull_interior_exact",
            "claims_geometry::hull_interior_with_bias_exact",
        ],
    }
}
