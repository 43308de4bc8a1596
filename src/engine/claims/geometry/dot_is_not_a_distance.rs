//! `dot-is-not-a-distance` (`proofs/dot-is-not-a-distance.md`): Which metric axioms d(x, y) = x·y,
//! 1 − cos θ and the chord distance satisfy, and whether x is its own top token.

use super::*;

fn dot_identity(c: &Case) -> CaseOutcome {
    let x = q(c.v("x"));
    let d = dot(&x, &x);
    exact_eq(
        "d(x, x) = x·x",
        &d,
        "d(x, x) according to the statement",
        &Q::zero(),
        Q::to_string,
    )
}

fn dot_nonnegative(c: &Case) -> CaseOutcome {
    let d = dot(&q(c.v("x")), &q(c.v("y")));
    if lt(&d, &Q::zero()) {
        CaseOutcome::Found(Evidence::exact(
            "d(x, y) = x·y",
            d,
            "lower bound on d(x, y) according to the statement",
            0,
        ))
    } else {
        CaseOutcome::Exact
    }
}

fn dot_symmetric(c: &Case) -> CaseOutcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    exact_eq("x·y", &dot(&x, &y), "y·x", &dot(&y, &x), Q::to_string)
}

fn dot_triangle(c: &Case) -> CaseOutcome {
    let (x, y, z) = (q(c.v("x")), q(c.v("y")), q(c.v("z")));
    let (xz, xy, yz) = (dot(&x, &z), dot(&x, &y), dot(&y, &z));
    let rhs = xy.clone() + yz.clone();
    if lt(&rhs, &xz) {
        CaseOutcome::Found(Evidence::exact(
            "d(x, z) = x·z",
            xz,
            format!("d(x, y) + d(y, z) = x·y + y·z = {xy} + {yz}"),
            rhs,
        ))
    } else {
        CaseOutcome::Exact
    }
}

fn one_minus_cos(a: &[f64], b: &[f64]) -> f64 {
    1.0 - cosine_similarity(a, b).unwrap()
}

fn cosine_triangle(c: &Case) -> CaseOutcome {
    if !nonzero(c.v("x")) || !nonzero(c.v("y")) || !nonzero(c.v("z")) {
        return CaseOutcome::Skip;
    }
    let (x, y, z) = (f(c.v("x")), f(c.v("y")), f(c.v("z")));
    let lhs = one_minus_cos(&x, &z);
    let rhs = one_minus_cos(&x, &y) + one_minus_cos(&y, &z);
    let bound = 3.0 * relative::<f64>(COSINE_ULPS + 1);
    match at_most_real(
        "1 − cos(x, z)",
        lhs,
        "(1 − cos(x, y)) + (1 − cos(y, z))",
        rhs,
        bound,
    ) {
        CaseOutcome::Found(mut e) => {
            // The cosines exactly, as the reader can check them by hand.
            let (qx, qy, qz) = (q(c.v("x")), q(c.v("y")), q(c.v("z")));
            e.lhs_label = format!("1 − cos(x, z) (cos(x, z) = {})", show_cos(&qx, &qz));
            e.rhs_label = format!(
                "(1 − cos(x, y)) + (1 − cos(y, z)) (cos(x, y) = {}, cos(y, z) = {})",
                show_cos(&qx, &qy),
                show_cos(&qy, &qz)
            );
            e.lhs = num(lhs);
            e.rhs = num(rhs);
            CaseOutcome::Found(e)
        }
        o => o,
    }
}

fn unit(v: &[f64]) -> Vec<f64> {
    let n = norm(v);
    v.iter().map(|a| a / n).collect()
}

fn chord_triangle(c: &Case) -> CaseOutcome {
    if !nonzero(c.v("x")) || !nonzero(c.v("y")) || !nonzero(c.v("z")) {
        return CaseOutcome::Skip;
    }
    let (x, y, z) = (unit(&f(c.v("x"))), unit(&f(c.v("y"))), unit(&f(c.v("z"))));
    let d = |a: &[f64], b: &[f64]| euclidean_distance(a, b);
    let (lhs, rhs) = (d(&x, &z), d(&x, &y) + d(&y, &z));
    let bound = 8.0 * relative::<f64>(NORM_ULPS + 2);
    readable(
        at_most_real("|x̂ − ẑ|", lhs, "|x̂ − ŷ| + |ŷ − ẑ|", rhs, bound),
        num(lhs),
        num(rhs),
    )
}

fn chord_identity(c: &Case) -> CaseOutcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    if is_zero(&x) || is_zero(&y) {
        return CaseOutcome::Skip;
    }
    // x̂ = ŷ exactly: x·y > 0 and (x·y)² = |x|²|y|².
    let xy = dot(&x, &y);
    let p = dot(&x, &x) * dot(&y, &y);
    if lt(&Q::zero(), &xy) && xy.clone() * xy.clone() == p && x != y {
        let diff: Vec<f64> = c.v("x").iter().zip(c.v("y")).map(|(a, b)| a - b).collect();
        CaseOutcome::Found(Evidence::exact(
            format!("|x̂ − ŷ| (x̂ = ŷ: x·y = {xy} > 0 and (x·y)² = |x|²|y|² = {p})"),
            0,
            "x − y",
            show_vec(&diff, c.values),
        ))
    } else {
        CaseOutcome::Exact
    }
}

fn self_is_top(c: &Case) -> CaseOutcome {
    let ts = tokens_q(c);
    let l = scores(&ts[0], &ts);
    let j = argmax(&l);
    if lt(&l[0], &l[j]) {
        CaseOutcome::Found(Evidence::exact(
            format!("x·{}", w(j)),
            &l[j],
            "x·x (x = w0)",
            &l[0],
        ))
    } else {
        CaseOutcome::Exact
    }
}

/// The claim `dot-is-not-a-distance` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "dot-is-not-a-distance",
        words: "the actual \"distance\" used for calculating logits looks like this: d(x1,x2)=x1⋅x2",
        readings: vec![
            Reading::new(
                "a1",
                "For d(x, y) = x·y: d(x, x) = 0.",
                "none",
                Some("d(x, x) = |x|², which is 0 only for x = 0."),
                [in_reals(
                    Fails,
                    ForAll,
                    || vectors(&["x"], 1..=4, -5..=5, vec![]),
                    dot_identity,
                )],
            ),
            Reading::new(
                "a2",
                "For d(x, y) = x·y: d(x, y) ≥ 0.",
                "none",
                Some("x·y < 0 whenever the angle exceeds 90°."),
                [in_reals(
                    Fails,
                    ForAll,
                    || vectors(&["x", "y"], 1..=4, -5..=5, vec![]),
                    dot_nonnegative,
                )],
            ),
            Reading::new(
                "a3",
                "For d(x, y) = x·y: d(x, y) = d(y, x).",
                "none",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || vectors(&["x", "y"], 1..=6, -9..=9, vec![]),
                    dot_symmetric,
                )],
            ),
            Reading::new(
                "a4",
                "For d(x, y) = x·y: d(x, z) ≤ d(x, y) + d(y, z).",
                "none",
                Some(
                    "No triangle inequality; the dot product is a similarity, not a distance (the Euclidean distance |x − y| is the metric).",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || vectors(&["x", "y", "z"], 1..=4, -5..=5, vec![]),
                    dot_triangle,
                )],
            ),
            Reading::new(
                "b1",
                "d(x, y) = 1 − cos θ satisfies the triangle inequality.",
                "x, y, z ≠ 0",
                Some(
                    "1 − cos θ = |x̂ − ŷ|²/2 is a squared metric; its square root (the chord, up to √2) satisfies the triangle inequality.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || vectors(&["x", "y", "z"], 2..=3, -3..=3, vec![]),
                    cosine_triangle,
                )],
            ),
            Reading::new(
                "b2",
                "The chord distance |x̂ − ŷ| satisfies the triangle inequality.",
                "x, y, z ≠ 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || vectors(&["x", "y", "z"], 1..=5, -9..=9, vec![]),
                    chord_triangle,
                )],
            ),
            Reading::new(
                "b3",
                "The chord distance is a metric on vectors: |x̂ − ŷ| = 0 ⇒ x = y.",
                "x, y ≠ 0",
                Some(
                    "It is a metric on directions (the unit sphere): |x̂ − ŷ| = 0 ⇔ y = αx, α > 0.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || vectors(&["x", "y"], 1..=3, -4..=4, vec![]),
                    chord_identity,
                )],
            ),
            Reading::new(
                "c",
                "Among tokens that contain x, x itself has the largest x·w.",
                "x = w0 is a token",
                Some(
                    "x·w > x·x whenever |w| cos θ > |x|: a longer token in a similar direction beats x itself.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || xs_tokens(&[], 2..=4, 2, 1..=4, vec![]),
                    self_is_top,
                )],
            ),
        ],
        tests: &[
            "claims_geometry::dot_is_not_a_metric_search_finds_and_verifies",
            "claims_geometry::dot_symmetric_exact",
            "claims_geometry::chord_triangle_f32",
            "claims_geometry::chord_triangle_f64",
        ],
    }
}
