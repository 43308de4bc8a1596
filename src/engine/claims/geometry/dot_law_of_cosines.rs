//! `dot-law-of-cosines` (`proofs/dot-law-of-cosines.md`): The law of cosines x·y = |x||y| cos θ and
//! the polarization identity.

use super::*;

fn law_of_cosines(c: &Case) -> CaseOutcome {
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    if !nonzero(&x) || !nonzero(&y) {
        return CaseOutcome::Skip;
    }
    let lhs = dot(&x, &y);
    let (nx, ny) = (norm(&x), norm(&y));
    let rhs = nx * ny * angle(&x, &y).unwrap().cos();
    // cos θ from Kahan's angle: |Δθ| ≤ a few ulps of π; |Δcos| ≤ |Δθ|.
    let bound =
        nx * ny * (relative::<f64>(2 * NORM_ULPS + 2) + 8.0 * f64::EPSILON * std::f64::consts::PI);
    readable(
        compare_real("x·y", &[lhs], "|x||y| cos θ", &[rhs], bound),
        num(lhs),
        num(rhs),
    )
}

fn polarization(c: &Case) -> CaseOutcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    let lhs = squared_distance(&x, &y);
    let rhs = dot(&x, &x) + dot(&y, &y) - exact(2.0) * dot(&x, &y);
    exact_eq("|x − y|²", &lhs, "|x|² + |y|² − 2x·y", &rhs, Q::to_string)
}

/// The claim `dot-law-of-cosines` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "dot-law-of-cosines",
        words: "d(x1,x2)=x1⋅x2=|x1||x2|cosθ12",
        readings: vec![
            Reading::new(
                "a",
                "x·y = |x||y| cos θ, θ the angle between x and y.",
                "x, y ≠ 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || vectors(&["x", "y"], 1..=6, -9..=9, vec![]),
                    law_of_cosines,
                )],
            ),
            Reading::new(
                "b",
                "|x − y|² = |x|² + |y|² − 2 x·y.",
                "none",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || vectors(&["x", "y"], 1..=8, -20..=20, vec![]),
                    polarization,
                )],
            ),
        ],
        tests: &[
            "claims_geometry::polarization_exact",
            "claims_geometry::law_of_cosines_f32",
            "claims_geometry::law_of_cosines_f64",
        ],
    }
}
