//! `qk-refactor-under-rope`.

use super::*;

/// The change of basis `M` (rows: the case's tokens), if square.
fn basis(c: &Case) -> Option<Vec<&[f64]>> {
    let m = c.tokens();
    (m.len() == c.dim()).then_some(m)
}

fn times(v: &[f64], m: &[&[f64]]) -> Vec<f64> {
    (0..m.len())
        .map(|j| v.iter().zip(m).map(|(a, row)| a * row[j]).sum())
        .collect()
}

fn times_transpose(v: &[f64], m: &[&[f64]]) -> Vec<f64> {
    m.iter()
        .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect()
}

fn det(m: &[&[f64]]) -> f64 {
    match m.len() {
        1 => m[0][0],
        2 => m[0][0] * m[1][1] - m[0][1] * m[1][0],
        _ => (0..m.len())
            .map(|j| {
                let minor: Vec<Vec<f64>> = m[1..]
                    .iter()
                    .map(|r| {
                        r.iter()
                            .enumerate()
                            .filter(|(k, _)| *k != j)
                            .map(|(_, v)| *v)
                            .collect()
                    })
                    .collect();
                let mr: Vec<&[f64]> = minor.iter().map(|r| r.as_slice()).collect();
                let s = if j % 2 == 0 { 1.0 } else { -1.0 };
                s * m[0][j] * det(&mr)
            })
            .sum(),
    }
}

/// `W_Q' = W_Q·M`, `W_K' = W_K·M⁻ᵀ` keeps `W_Q'·W_K'ᵀ`: a query `q` becomes `q·M` and a key
/// `k = k̃·Mᵀ` becomes `k̃` — so the claim is `(q·M)·k̃ = q·(k̃·Mᵀ)` (no inverse needed).
fn refactor_plain(c: &Case) -> CaseOutcome {
    let Some(m) = basis(c) else {
        return CaseOutcome::Skip;
    };
    if det(&m) == 0.0 {
        return CaseOutcome::Skip;
    }
    let (qv, kt) = (c.v("q"), c.v("k̃"));
    let lhs = dot(&q(&times(qv, &m)), &q(kt));
    let rhs = dot(&q(qv), &q(&times_transpose(kt, &m)));
    exact_eq("(q·M)·k̃", &lhs, "q·(k̃·Mᵀ)", &rhs, |v| {
        v.to_string()
    })
}

/// The same with a rotary embedding between the projections and the score: positions `i`
/// (query) and `j` (key), base 10,000 (pair 0 turns by 1 radian per position).
fn refactor_rope(c: &Case) -> CaseOutcome {
    let Some(m) = basis(c) else {
        return CaseOutcome::Skip;
    };
    if !c.dim().is_multiple_of(2) || det(&m) == 0.0 {
        return CaseOutcome::Skip;
    }
    let (i, j) = (c.p("i").raw(), c.p("j").raw());
    if i < 0 || j < 0 {
        return CaseOutcome::Skip;
    }
    let (qv, kt) = (c.v("q"), c.v("k̃"));
    let rope = Rope::interleaved(10_000.0);
    let rot = |v: Vec<f64>, p: i64| -> Vec<f64> {
        // Rotate the vector as row p of a matrix whose other rows are zero.
        let mut mat = DMatrix::<f64>::zeros(p as usize + 1, v.len());
        for (k, &e) in v.iter().enumerate() {
            mat[(p as usize, k)] = e;
        }
        let r = apply_rope(&mat, rope);
        r.row(p as usize).iter().copied().collect()
    };
    let lhs = dot(&rot(times(qv, &m), i), &rot(kt.to_vec(), j));
    let rhs = dot(&rot(qv.to_vec(), i), &rot(times_transpose(kt, &m), j));
    // Each rotated entry within 2u of its value (f64 cos/sin, one rounding), then a
    // compensated dot: the bound is a few u of Σ|terms|.
    let mag = |a: &[f64], b: &[f64]| -> f64 {
        let na: f64 = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|v| v * v).sum::<f64>().sqrt();
        na * nb
    };
    let qm = rot(times(qv, &m), i);
    let km = rot(times_transpose(kt, &m), j);
    let bound = 8.0
        * relative::<f64>(1)
        * (mag(&qm, &rot(kt.to_vec(), j)) + mag(&rot(qv.to_vec(), i), &km))
        + 2.0 * ulp(0.0f64);
    compare_real(
        "RoPE_i(q·M)·RoPE_j(k̃)",
        &[lhs],
        "RoPE_i(q)·RoPE_j(k̃·Mᵀ)",
        &[rhs],
        bound,
    )
}

fn square(
    names: &'static [&'static str],
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    let (pnames, pstrats): (Vec<&'static str>, Vec<BoxedStrategy<Param>>) =
        params.into_iter().unzip();
    (dims, pstrats)
        .prop_flat_map(move |(d, ps)| {
            let pnames = pnames.clone();
            (
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), names.len()),
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), d),
                Just(ps),
            )
                .prop_map(move |(fixed, toks, ps)| {
                    let n = toks.len();
                    Case::with_tokens(
                        names.iter().copied().zip(fixed).collect(),
                        toks,
                        n,
                        pnames.iter().copied().zip(ps).collect(),
                    )
                    .named("m")
                })
        })
        .boxed()
}

fn refactor_plain_cases() -> BoxedStrategy<Case> {
    square(&["q", "k̃"], 1..=3, -4..=4, vec![])
}

fn refactor_rope_cases() -> BoxedStrategy<Case> {
    square(
        &["q", "k̃"],
        2..=2,
        -2..=2,
        vec![("i", int(0..=3)), ("j", int(0..=3))],
    )
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "qk-refactor-under-rope",
        words: "(weight processing as interpretability tools apply it; not from the thread) a change of basis that preserves W_Q·W_Kᵀ preserves attention scores without rotary position embeddings and not with them",
        readings: vec![
            Reading::new(
                "a",
                "Without RoPE: W_Q' = W_Q·M, W_K' = W_K·M⁻ᵀ (M invertible) gives the same scores: (q·M)·(k·M⁻ᵀ) = q·k.",
                "M invertible, no position-dependent map between projection and score",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    refactor_plain_cases,
                    refactor_plain,
                )],
            ),
            Reading::new(
                "b",
                "With RoPE between the projections and the score: RoPE_i(q·M)·RoPE_j(k·M⁻ᵀ) = RoPE_i(q)·RoPE_j(k).",
                "M invertible, rotary embedding (base 10,000) at query position i and key position j",
                Some(
                    "RoPE inserts the rotation R_{j−i} between q and k: the score is q·R_{j−i}·kᵀ, and q·M·R·M⁻¹·kᵀ = q·R·kᵀ for all positions only if M commutes with every rotation R (M a scaled rotation within each 2-D pair, e.g. M = c·I). A general refactoring of W_Q·W_Kᵀ is invalid under RoPE.",
                ),
                [in_reals(Fails, ForAll, refactor_rope_cases, refactor_rope)],
            ),
        ],
        tests: &[
            "claims_transformer::refactor_without_rope_is_exact",
            "claims_transformer::rope_refactor_search_finds_and_verifies",
            "claims_transformer::rope_refactor_holds_for_scaled_rotations_f32",
            "claims_transformer::rope_refactor_holds_for_scaled_rotations_f64",
        ],
    }
}
