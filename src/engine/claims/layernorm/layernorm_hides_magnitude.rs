//! `layernorm-hides-magnitude`: the magnitude of x is visible across residual updates, and over ℝ
//! (not in f32) from the output itself when ε > 0.

use super::*;

/// Every x, v in dimensions 1 and 2 with entries in [−3, 3] and α ∈ 1..=4, simplest first.
fn residual_update_cases() -> Box<dyn Iterator<Item = Case>> {
    lattice_cases(
        &["x", "v"],
        1..=2,
        -3..=3,
        vec![("α", (1..=4).map(Param::Int).collect())],
        Values::Lattice,
    )
}

fn residual_update(c: &Case) -> CaseOutcome {
    let (x, v) = (f(c.v("x")), f(c.v("v")));
    let a = c.p("α").value();
    if a <= 0.0 {
        return CaseOutcome::Skip; // the reading's α > 0
    }
    // exact: small integers
    let l: Vec<f64> = x.iter().zip(&v).map(|(p, r)| a * p + r).collect();
    let r: Vec<f64> = x.iter().zip(&v).map(|(p, r)| p + r).collect();
    if !non_constant(&l) || !non_constant(&r) {
        return CaseOutcome::Skip; // σ = ε = 0 on a side: LN is 0/0
    }
    compare_real(
        "LN(α·x + v)",
        &ln(&l, 0.0),
        "LN(x + v)",
        &ln(&r, 0.0),
        ln_bound(x.len()),
    )
}

/// The ε of the float judgement of layernorm-hides-magnitude (c): GPT-2's.
const RECOVERY_EPS: f64 = 1e-5;
/// The relative error at which the float judgement counts σ² as not recovered.
const RECOVERY_TOLERANCE: f64 = 0.01;

/// σ² of the row `x` recovered from `LN_ε(x)` computed in `T`, as ε·n²/(d − n²) with
/// n² = |LN(x)|² summed in f64, beside σ² of `x` itself (in f64) and their relative difference.
fn recover<T: crate::kernels::scalar::Real>(x: &[T], eps: T) -> (f64, f64, f64) {
    let y = layer_norm(x, eps, None, None);
    let d = x.len() as f64;
    let n2: f64 = y.iter().map(|v| v.widen() * v.widen()).sum();
    let xf: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    let mu = xf.iter().sum::<f64>() / d;
    let var = xf.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d;
    let rec = eps.widen() * n2 / (d - n2);
    let rel = if var == 0.0 && rec == 0.0 {
        0.0 // σ = 0 and LN(x) = 0: recovered exactly
    } else {
        ((rec - var) / var).abs()
    };
    (rec, var, rel)
}

/// ℝ: σ² = ε·n²/(d − n²), n = |LN(x)|, for the row s·x (s = 2^k) and the case's ε > 0, judged
/// in f64 against the conditioning of the map.
fn recover_sigma_real(c: &Case) -> CaseOutcome {
    let s = c.p("s").value();
    let eps = eps(c).value();
    let x: Vec<f64> = c.v("x").iter().map(|v| v * s).collect(); // exact: s = 2^k
    let (rec, var, rel) = recover(&x, eps);
    // Condition number of σ² ↦ n² ↦ σ² is (σ² + ε)/ε; each yᵢ is within NORM_LAYER_ULPS ulp.
    let bound = (var + eps) / eps
        * (2.0 * relative::<f64>(NORM_LAYER_ULPS) + relative::<f64>(x.len() as u64 + 4));
    if rel.is_nan() || rel > MARGIN_FACTOR * bound {
        return CaseOutcome::Found(Evidence::margin(
            "σ² recovered as ε·n²/(d − n²)",
            rec,
            "σ²",
            var,
            rel,
            bound,
        ));
    }
    CaseOutcome::Pass { error: rel, bound }
}

/// In `T`, at ε = [`RECOVERY_EPS`]: σ² recovered from the output within
/// [`RECOVERY_TOLERANCE`] (relative).
fn recover_sigma_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let x: Vec<T> = ft(c.v("x"));
    let eps = T::narrow(RECOVERY_EPS);
    let (rec, var, rel) = recover(&x, eps);
    if rel.is_nan() || lt(RECOVERY_TOLERANCE, rel) {
        let dom = domain_of::<T>();
        CaseOutcome::Found(Evidence {
            lhs_label: format!(
                "ε·n²/(d − n²), n = |LN(x)| computed in {dom} (ε = {})",
                show_num(eps.widen(), Values::of::<T>())
            ),
            lhs: format!(
                "{rec:?} (relative error {rel:.4e}, above the {RECOVERY_TOLERANCE:e} the reading allows)"
            ),
            rhs_label: "σ² of x".into(),
            rhs: show_num(var, c.values),
            verification: Verification::Arithmetic(dom),
        })
    } else {
        CaseOutcome::Pass {
            error: rel,
            bound: RECOVERY_TOLERANCE,
        }
    }
}

fn recover_sigma_cases<T: crate::kernels::scalar::Real>() -> Box<dyn Iterator<Item = Case>> {
    lattice_cases(&["x"], 1..=2, -9..=9, vec![], Values::of::<T>())
}

fn recover_sigma_strategy<T: crate::engine::strategies::FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(&["x"], 0..=0, 0, 2..=8, -9..=9, vec![])
}

fn scale_positive_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 2..=10, -20..=20, vec![("α", int(1..=50))])
}

fn residual_update_random() -> BoxedStrategy<Case> {
    vectors(&["x", "v"], 2..=4, -3..=3, vec![("α", int(1..=4))])
}

fn recover_sigma_real_cases() -> BoxedStrategy<Case> {
    vectors(
        &["x"],
        2..=8,
        -9..=9,
        vec![("s", pow2(-12..=-4)), ("ε", pow2(-20..=0))],
    )
}

pub fn claim() -> Claim {
    Claim {
        id: "layernorm-hides-magnitude",
        words: "for networks w/ layernorm the intermediate components literally do not have access to magnitude data",
        readings: vec![
            scale_positive_reading(
                "a",
                "Any f(LN(α·x)) = f(LN(x)) for α > 0, ε = 0.",
                scale_positive_cases,
            ),
            Reading::new(
                "b",
                "Across a residual update: LN(α·x + v) = LN(x + v).",
                "α > 0, ε = 0, σ(α·x + v) > 0 and σ(x + v) > 0 (else a side is 0/0)",
                Some(
                    "A later write v meets the stream at its actual size: LN(αx + v) = LN(x + v/α), so the relative size of x and v — the magnitude of x — is visible downstream.",
                ),
                [
                    in_reals(Fails, ForAll, residual_update_random, residual_update)
                        .enumerating(residual_update_cases),
                ],
            ),
            Reading::new(
                "c",
                "With ε > 0, |x| (its centered part σ) can be recovered from LN(x).",
                "ε > 0 (ℝ: the row s·x, s = 2^k). f32 and f64: ε = 1e-5 (GPT-2's), LN(x) computed in the type, σ² recovered as ε·n²/(d − n²) from that output with n² summed in f64, and counted as recovered within 1 % relative error",
                Some(
                    "Over ℝ σ² = ε·n²/(d − n²) with n = |LN(x)|, with condition number (σ² + ε)/ε: in f32 the relative error of the recovery is about (σ²/ε)·2^-24 — above 1 % from σ² of a few units at ε = 1e-5 — and the recovery is lost entirely once σ² ≳ ε·2^24 (n² rounds to d); in f64 likewise with 2^-53 in place of 2^-24 (above 1 % from σ² ≈ 10⁹ at ε = 1e-5).",
                ),
                [in_reals(
                    Holds,
                    ForAll,
                    recover_sigma_real_cases,
                    recover_sigma_real,
                )]
                .into_iter()
                .chain(judged_in_floats!(
                    Fails,
                    ForAll,
                    recover_sigma_strategy,
                    recover_sigma_float,
                    enumerate: recover_sigma_cases
                )),
            ),
        ],
        tests: &[
            "claims_layernorm::scale_invariance_f64",
            "claims_layernorm::residual_update_search_finds_and_verifies",
            "claims_layernorm::recover_sigma_real",
            "claims_layernorm::recover_sigma_random_search_refutes_in_floats",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
