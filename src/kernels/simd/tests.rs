//! The `f32` kernels on every available path against an independent `f64` reference (the
//! crate's `f64` kernels on the widened input, within 3 `f64` ulps of exact): each `f32` result
//! is the rounding of the reference, or one ulp away with the reference within the path's
//! bound (`tolerance::narrow_*`) plus the reference's own error of the midpoint between the
//! two. And the vector lanes of `exp` against their scalar twins bit for bit ([`exp_poly`] for
//! the AVX2 lanes, [`exp::exp_poly16`] for the AVX-512 lanes).

use super::*;
use crate::kernels::tolerance::{narrow_norm_err, narrow_softmax_rel_err, ulp_distance};
use crate::kernels::{loss, norms, softmax};
use proptest::prelude::*;

/// The vector levels this CPU runs.
fn vector_levels() -> Vec<Isa> {
    levels().into_iter().filter(|l| l.is_vector()).collect()
}

/// The levels this CPU runs.
fn levels() -> Vec<Isa> {
    [Isa::Scalar, Isa::Avx2Fma, Isa::Avx512]
        .into_iter()
        .filter(|l| l.is_available())
        .collect()
}

/// `got` is `reference` rounded to `f32`, or the neighbour on the other side of a midpoint
/// that lies within `window` of `reference`.
fn rounds_within(got: f32, reference: f64, window: f64) -> Result<(), String> {
    let want = reference as f32;
    if got.to_bits() == want.to_bits() || (got == 0.0 && want == 0.0) {
        return Ok(());
    }
    if ulp_distance(got, want) != 1 {
        return Err(format!("{got:e} vs reference {reference:e} ({want:e})"));
    }
    let mid = (f64::from(got) + f64::from(want)) / 2.0;
    if (reference - mid).abs() <= window {
        Ok(())
    } else {
        Err(format!(
            "{got:e} vs reference {reference:e}: midpoint {mid:e} is {:e} away, window {window:e}",
            (reference - mid).abs()
        ))
    }
}

/// Three f64 ulps of the reference: its own error.
fn ref_err(v: f64) -> f64 {
    3.0 * f64::EPSILON * v.abs()
}

/// Rows of logits: moderate values, repeats of the maximum, masked (−∞) entries, lengths
/// around the 16-lane chunks and the 256-entry blocks.
fn logits32() -> impl Strategy<Value = Vec<f32>> {
    let elem = prop_oneof![
        8 => -30.0f32..30.0,
        1 => Just(f32::NEG_INFINITY),
        1 => (-3i32..3).prop_map(|v| v as f32),
        1 => -1e-30f32..1e-30,
    ];
    prop_oneof![
        proptest::collection::vec(elem.clone(), 1..40),
        proptest::collection::vec(elem, 250..700),
    ]
    .prop_filter("a finite maximum", |z| z.iter().any(|v| v.is_finite()))
}

fn softmax_paths(z: &[f32]) -> Result<(), TestCaseError> {
    let zw: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
    let p64 = softmax::softmax(&zw);
    let lp64 = softmax::log_softmax(&zw);
    let l64 = softmax::logsumexp(&zw);
    let y = z.len() / 2;
    let (ce64, g64) = loss::cross_entropy_with_grad(&zw, y);
    for level in levels() {
        let vector = level != Isa::Scalar;
        let rel = narrow_softmax_rel_err(z.len(), vector);
        let (p, lp, l, (ce, g)) = with_isa(level, || {
            (
                softmax::softmax(z),
                softmax::log_softmax(z),
                softmax::logsumexp(z),
                loss::cross_entropy_with_grad(z, y),
            )
        });
        let check = |what: &str, got: f32, r: f64, w: f64| {
            rounds_within(got, r, w)
                .map_err(|e| TestCaseError::fail(format!("{level:?} {what}: {e}; row {z:?}")))
        };
        for j in 0..z.len() {
            check("softmax", p[j], p64[j], rel * p64[j] + ref_err(p64[j]))?;
            check(
                "log_softmax",
                lp[j],
                lp64[j],
                rel * lp64[j].abs() + ref_err(lp64[j]),
            )?;
            check(
                "ce grad",
                g[j],
                g64[j],
                rel * g64[j].abs() + ref_err(g64[j]),
            )?;
        }
        // logsumexp = m + log1p(S): the log's error is relative to log1p(S), not to the sum.
        let m = zw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        check(
            "logsumexp",
            l,
            l64,
            rel * (l64 - m).abs() + ref_err(l64) + 2.0 * ref_err(m),
        )?;
        check("cross_entropy", ce, ce64, rel * ce64.abs() + ref_err(ce64))?;
    }
    Ok(())
}

/// Rows for the norms: a mean far from the spread, small and 768-entry rows.
fn rows32() -> impl Strategy<Value = (Vec<f32>, f32)> {
    let row = |len: std::ops::Range<usize>| {
        (
            -1e4f32..1e4,
            proptest::collection::vec(-10.0f32..10.0, len),
            prop_oneof![Just(1.0f32), 1e-3f32..1e3],
        )
            .prop_map(|(mu, v, s)| v.into_iter().map(|x| mu + s * x).collect::<Vec<f32>>())
    };
    (
        prop_oneof![row(1..40), row(700..800)],
        prop_oneof![Just(0.0f32), Just(1e-5f32), 1e-6f32..1.0],
    )
}

fn norm_paths(x: &[f32], eps: f32, affine: bool) -> Result<(), TestCaseError> {
    let n = x.len();
    let xw: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let gamma: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
    let beta: Vec<f32> = (0..n).map(|i| (i % 5) as f32 * 0.125 - 0.25).collect();
    let (g, b) = if affine {
        (Some(gamma.as_slice()), Some(beta.as_slice()))
    } else {
        (None, None)
    };
    let gw: Vec<f64> = gamma.iter().map(|&v| f64::from(v)).collect();
    let bw: Vec<f64> = beta.iter().map(|&v| f64::from(v)).collect();
    let ln64 = norms::layer_norm(&xw, f64::from(eps), None, None);
    let rms64 = norms::rms_norm(&xw, f64::from(eps), None);
    for level in levels() {
        let (rel, abs) = narrow_norm_err(n, level != Isa::Scalar);
        let (ln, rms) = with_isa(level, || {
            (norms::layer_norm(x, eps, g, b), norms::rms_norm(x, eps, g))
        });
        for i in 0..n {
            let (gi, bi) = if affine { (gw[i], bw[i]) } else { (1.0, 0.0) };
            for (what, got, y, beta_i) in [
                ("layer_norm", ln[i], ln64[i], bi),
                ("rms_norm", rms[i], rms64[i], 0.0),
            ] {
                let r = gi * y + beta_i;
                // The path's bound on y, scaled by γ; the affine step's own rounding.
                let w = (rel * y.abs() + abs) * gi.abs()
                    + ref_err(y) * gi.abs()
                    + 2.0 * f64::EPSILON * (gi * y).abs().max(beta_i.abs());
                rounds_within(got, r, w).map_err(|e| {
                    TestCaseError::fail(format!(
                        "{level:?} {what}[{i}]: {e}; eps {eps:e}, row {x:?}"
                    ))
                })?;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn softmax_family_paths_round_the_reference(z in logits32()) {
        softmax_paths(&z)?;
    }

    #[test]
    fn norm_paths_round_the_reference((x, eps) in rows32(), affine in any::<bool>()) {
        norm_paths(&x, eps, affine)?;
    }
}

/// The first index of the maximum, the extremes and the NaN flag as a plain scan finds them.
fn extremes_by_scan(z: &[f32]) -> (f32, usize, f32, bool) {
    let (mut best, mut first) = (f32::NEG_INFINITY, 0);
    for (j, &v) in z.iter().enumerate() {
        if v > best {
            (best, first) = (v, j);
        }
    }
    let least = z.iter().copied().fold(f32::INFINITY, f32::min);
    (best, first, least, z.iter().any(|v| v.is_nan()))
}

/// Rows with repeated maxima (few distinct values, so ties in every lane and across lanes),
/// signed zeros and −∞, at lengths around the AVX2 lanes' sixteen-entry chunks and the AVX-512
/// lanes' sixty-four.
fn tied_rows() -> impl Strategy<Value = Vec<f32>> {
    let elem = prop_oneof![
        4 => (-2i32..3).prop_map(|v| v as f32),
        1 => Just(-0.0f32),
        1 => Just(f32::NEG_INFINITY),
        1 => -3.0f32..3.0,
    ];
    prop_oneof![
        proptest::collection::vec(elem.clone(), 1..80),
        proptest::collection::vec(elem, 80..200),
    ]
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// The vector pass finds the first index of the maximum that a scan from the left finds,
    /// and the same extremes, whichever lane and chunk the ties fall in.
    #[test]
    fn vector_extremes_find_the_first_maximum(z in tied_rows(), nan_at in proptest::option::of(0usize..200)) {
        for level in vector_levels() {
            let extremes = |z: &[f32]| extremes_at(level, z);
            let (m, k, least, nan) = extremes(&z);
            let want = extremes_by_scan(&z);
            prop_assert_eq!(m, want.0);
            prop_assert!(!m.is_finite() || (k == want.1 && m.to_bits() == z[k].to_bits()),
                "{:?}: first max at {} not {}: {:?}", level, k, want.1, z);
            prop_assert_eq!((least, nan), (want.2, want.3));
            if let Some(i) = nan_at.filter(|&i| i < z.len()) {
                let mut z = z.clone();
                z[i] = f32::NAN;
                let (.., nan) = extremes(&z);
                prop_assert!(nan, "{:?}: a NaN at {} unseen", level, i);
            }
        }
    }
}

/// [`avx2::max_argmax_min_nan`] at a vector level this CPU runs, on that level's lanes.
#[cfg(target_arch = "x86_64")]
fn extremes_at(level: Isa, z: &[f32]) -> (f32, usize, f32, bool) {
    assert!(level.is_vector() && level.is_available());
    // SAFETY: a vector level this CPU runs (asserted).
    unsafe {
        if level == Isa::Avx512 {
            avx512::max_argmax_min_nan(z)
        } else {
            avx2::max_argmax_min_nan(z)
        }
    }
}

/// Long rows whose maximum first appears anywhere: in any of the AVX-512 pass's blocks of
/// 1024 entries, in its last partial block, or after the last chunk of 64, with a tie later
/// on (in its block or in later ones); a maximum of zero whose first occurrence has either
/// sign; blocks of −∞ only before the maximum; and a maximum only in the remainder after a
/// larger value than the others in block 0.
#[cfg(target_arch = "x86_64")]
#[test]
fn vector_extremes_find_the_first_maximum_in_long_rows() {
    let mut s = 0x5eed_u64;
    let mut next = |n: usize| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) as usize) % n
    };
    let check = |z: &[f32], what: &str| {
        let want = extremes_by_scan(z);
        for level in vector_levels() {
            let got = extremes_at(level, z);
            assert_eq!(
                (got.0.to_bits(), got.1, got.2, got.3),
                (z[want.1].to_bits(), want.1, want.2, want.3),
                "{level:?}: {what}"
            );
        }
    };
    for len in [1024, 1025, 2047, 2048, 2049, 3071, 3100, 3135] {
        let base: Vec<f32> = (0..len).map(|_| next(6000) as f32 / 1000.0 - 3.0).collect();
        let mut firsts: Vec<usize> = (0..40).map(|_| next(len - 1)).collect();
        // Each block's first and last entry, and the entries after the last chunk of 64.
        firsts.extend(
            (0..len.div_ceil(1024)).flat_map(|b| [b * 1024, (b * 1024 + 1023).min(len - 1)]),
        );
        firsts.extend(len / 64 * 64..len);
        for k in firsts {
            let later = (k + 1 < len).then(|| k + 1 + next(len - k - 1));
            for (top, again) in [(5.0f32, 5.0f32), (-0.0, 0.0), (0.0, -0.0)] {
                let mut z = base.clone();
                if top == 0.0 {
                    // A maximum of zero: everything else negative.
                    z.iter_mut().for_each(|v| *v = -v.abs() - 1.0);
                }
                z[k] = top;
                if let Some(l) = later {
                    z[l] = again;
                }
                assert_eq!(extremes_by_scan(&z).1, k);
                check(
                    &z,
                    &format!("length {len}, maximum {top} first at {k}, {again} at {later:?}"),
                );
            }
        }
        // Blocks of −∞ before the maximum, and a maximum only in the remainder after a value in
        // block 0 above the rest of the full chunks.
        let mut z = vec![f32::NEG_INFINITY; len];
        z[len - 1] = 1.0;
        z[len / 2] = 0.5;
        check(&z, &format!("length {len}: −∞ blocks"));
        let mut z = base.clone();
        z[3] = 4.0;
        z[len - 1] = 4.5;
        check(&z, &format!("length {len}: the maximum last"));
    }
}

/// A vector level's `exp` lanes over a row, as the softmax core runs them: the terms
/// `exp(zⱼ − m)` written and their sum as a pair (also checked equal to the sum without the
/// store), and the scalar twin's terms they must equal bit for bit ([`exp_poly`] for the AVX2
/// lanes, [`exp::exp_poly16`] for the AVX-512 lanes).
#[cfg(target_arch = "x86_64")]
fn exp_lanes_and_twin(
    level: Isa,
    z: &[f32],
    m: f64,
    clamp: bool,
) -> (Vec<f64>, (f64, f64), Vec<f64>) {
    let mut out = Vec::with_capacity(z.len());
    // SAFETY: a vector level this CPU runs (the callers take it from vector_levels()).
    let pair = unsafe {
        exp_sum(
            level,
            z,
            m,
            Some(&mut out.spare_capacity_mut()[..z.len()]),
            clamp,
        )
    };
    // SAFETY: exp_sum wrote every entry.
    unsafe { out.set_len(z.len()) };
    // SAFETY: as above.
    assert_eq!(
        unsafe { exp_sum(level, z, m, None, clamp) },
        pair,
        "{level:?}: the sum without the store"
    );
    let twin: fn(f64) -> f64 = if level == Isa::Avx512 {
        exp::exp_poly16
    } else {
        exp_poly
    };
    (
        out,
        pair,
        z.iter().map(|&v| twin(f64::from(v) - m)).collect(),
    )
}

/// The sum of an exp pass within `γ₁₆ + 2u` (`tolerance::narrow_sum_rel_err`'s summation part)
/// of the exact sum of its terms.
#[cfg(target_arch = "x86_64")]
fn sum_within_bound((hi, lo): (f64, f64), terms: &[f64]) -> Result<(), String> {
    let mut exact = crate::kernels::scalar::Acc::default();
    terms.iter().for_each(|&e| exact.add(e));
    let (s, want) = (hi + lo, exact.value());
    let bound = crate::kernels::tolerance::gamma::<f64>(16) + f64::EPSILON;
    if (s - want).abs() <= bound * want {
        Ok(())
    } else {
        Err(format!("sum {s:e} vs {want:e}"))
    }
}

/// The vector lanes compute their scalar twin bit for bit (the terms they keep for the
/// softmax), with the clamp on every argument and without it on the arguments at or above
/// −708, at lengths with and without a remainder after the 16-term steps; their sum is within
/// the summation bound of the twin's terms.
#[cfg(target_arch = "x86_64")]
#[test]
fn vector_exp_is_its_scalar_twin_bit_for_bit() {
    for level in vector_levels() {
        let mut all: Vec<f32> = (0..4099)
            .map(|i| -((i as f32) * 0.19).rem_euclid(760.0))
            .collect();
        all.extend([f32::NEG_INFINITY, -0.0, 0.0, -707.9, -708.1, -1e-30, -708.0]);
        let in_range: Vec<f32> = all.iter().copied().filter(|&v| v >= -708.0).collect();
        assert!(in_range.len() + 60 < all.len());
        for (z, clamp) in [(&all, true), (&in_range, true), (&in_range, false)] {
            for len in [z.len(), z.len() - 31, 48, 33, 32, 31, 16, 1] {
                let z = &z[z.len() - len..];
                let (out, pair, twin) = exp_lanes_and_twin(level, z, 0.0, clamp);
                for (j, &v) in z.iter().enumerate() {
                    assert_eq!(
                        out[j].to_bits(),
                        twin[j].to_bits(),
                        "{level:?}: z = {v:e}, clamp {clamp}"
                    );
                }
                sum_within_bound(pair, &twin).unwrap_or_else(|e| panic!("{level:?}: {e}"));
            }
        }
    }
}

/// The vector lanes agree with their scalar twin bit for bit where the reduction changes its
/// integer (`x·N/ln 2` at `x = −(n + ½)·ln2/N`, every `n` of the range, and two `f64` steps
/// either side; `N` = 8 for the AVX2 lanes, 16 for the AVX-512 lanes): there the table entry,
/// the scale and the sign of `r` all switch, and a lane that rounded `x·N/ln 2` differently from
/// the scalar would pick the neighbouring entry. Each argument reaches the lanes as `0 − m`
/// with `m = −x`, 32 of them and 16, on every vector level (the AVX-512 lanes take 32 terms
/// per step, and 16 in their last).
#[cfg(target_arch = "x86_64")]
#[test]
fn vector_exp_matches_its_twin_at_the_reduction_edges() {
    for level in vector_levels() {
        let per = if level == Isa::Avx512 { 16 } else { 8 };
        let step = std::f64::consts::LN_2 / f64::from(per);
        // The integers n with −(n + ½)·ln2/N ≥ −708.
        let edges = (708.0 / step - 0.5).floor() as i32 + 1;
        // The integer N·A the reduction rounds x·N/ln 2 to, as it computes it.
        let index = |x: f64| {
            if per == 16 {
                ((x.mul_add(exp::LOG2E, exp::SHIFTER16) - exp::SHIFTER16) * 16.0) as i64
            } else {
                (x.mul_add(exp::LOG2E_8, exp::SHIFTER) - exp::SHIFTER) as i64
            }
        };
        for len in [32, 16] {
            let z = &[0.0f32; 32][..len];
            for n in 0..edges {
                let edge = -(f64::from(n) + 0.5) * step;
                let mut x = edge.next_down().next_down();
                let mut seen = std::collections::BTreeSet::new();
                for _ in 0..5 {
                    for clamp in [true, false] {
                        let (out, _, twin) = exp_lanes_and_twin(level, z, -x, clamp);
                        assert!(
                            out.iter().all(|e| e.to_bits() == twin[0].to_bits()),
                            "{level:?}: x = {x:e}"
                        );
                    }
                    seen.insert(index(x));
                    x = x.next_up();
                }
                // The probes straddle the edge: both neighbouring integers were reached.
                let n = i64::from(n);
                assert!(
                    seen.contains(&-n) && seen.contains(&(-n - 1)),
                    "{level:?}: edge {n}: {seen:?}"
                );
            }
        }
    }
}

/// Rows for the comparison of the two vector levels: logits with masked entries and entries
/// below −708, lengths across the steps of 16 and 32 and the blocks of 256 terms.
fn level_rows() -> impl Strategy<Value = Vec<f32>> {
    let elem = prop_oneof![
        8 => -30.0f32..30.0,
        1 => Just(f32::NEG_INFINITY),
        1 => -2000.0f32..-700.0,
        1 => -1e-30f32..1e-30,
    ];
    prop_oneof![
        proptest::collection::vec(elem.clone(), 1..80),
        proptest::collection::vec(elem, 250..1100),
    ]
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The AVX-512 lanes give the AVX2 lanes' results bit for bit: the norms' shifted sums;
    /// the output pass's values and least screen values, for four rows together (γ and β
    /// widened) and each alone (γ and β as given), the same for either; and the final
    /// scalings. (Their `exp` is their own, checked against its twin.)
    #[test]
    fn avx512_lanes_are_the_avx2_lanes(z in level_rows(), m in 0.0f64..40.0, c in -3.0f64..3.0) {
        if !Isa::Avx512.is_available() {
            return Ok(());
        }
        let mut finite = z.clone();
        finite.retain(|v| v.is_finite());
        prop_assume!(!finite.is_empty());
        let in_range: Vec<f32> = finite.iter().map(|v| v.max(-600.0)).collect();
        // SAFETY: both levels run here.
        let (s2, s5) = unsafe { (avx2::shifted_sums(&finite, c), avx512::shifted_sums(&finite, c)) };
        prop_assert_eq!((s2.0.to_bits(), s2.1.to_bits()), (s5.0.to_bits(), s5.1.to_bits()));

        let e: Vec<f64> = in_range.iter().map(|&v| exp_poly(f64::from(v) - 30.0)).collect();
        let scaled = |level| filled(e.len(), |o| scale_to_f32(level, &e, 0.75, o));
        let shifted = |level| filled(in_range.len(), |o| shift_to_f32(level, &in_range, m, c.abs(), o));
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        prop_assert_eq!(bits(scaled(Isa::Avx2Fma)), bits(scaled(Isa::Avx512)));
        prop_assert_eq!(bits(shifted(Isa::Avx2Fma)), bits(shifted(Isa::Avx512)));

        let d = finite.len() / 4;
        prop_assume!(d > 0);
        let rows: [&[f32]; 4] = std::array::from_fn(|q| &finite[q * d..(q + 1) * d]);
        // γ and β as the callers pass them: f32 values, as given (one row) or widened (four).
        let g32: Vec<f32> = (0..d).map(|i| 0.5 + i as f32 / 7.0).collect();
        let b32: Vec<f32> = (0..d).map(|i| i as f32 / 3.0 - 1.0).collect();
        let g: Vec<f64> = g32.iter().map(|&v| f64::from(v)).collect();
        let b: Vec<f64> = b32.iter().map(|&v| f64::from(v)).collect();
        let k = [(c, 0.3, 0.01), (1.0, 2.0, -0.5), (-c, 1.5, 0.0), (0.0, 0.7, 0.2)];
        let base = [0x3f80_0000u32, 0xbf80_0000, 0, 0x4000_0000];
        for (scr, (gamma, beta), (gamma32, beta32)) in [
            (avx2::screen::INTERVAL, (Some(&g[..]), Some(&b[..])), (Some(&g32[..]), Some(&b32[..]))),
            (avx2::screen::MAGNITUDE, (Some(&g[..]), None), (Some(&g32[..]), None)),
            (avx2::screen::INTERVAL, (None, Some(&b[..])), (None, Some(&b32[..]))),
            (avx2::screen::NONE, (None, None), (None, None)),
        ] {
            let k = if scr == avx2::screen::NONE { [(0.0, 0.7, 0.0); 4] } else { k };
            let run = |level: Isa| {
                let mut out = vec![vec![MaybeUninit::<f32>::uninit(); d]; 4];
                let [o0, o1, o2, o3] = &mut out[..] else { unreachable!() };
                // SAFETY: both levels run here; every row, output, γ and β has d entries.
                let least = unsafe {
                    if level == Isa::Avx512 {
                        avx512::affine_rows(scr, rows, k, base, (gamma, beta), [o0, o1, o2, o3])
                    } else {
                        avx2::affine_rows(scr, rows, k, base, (gamma, beta), [o0, o1, o2, o3])
                    }
                };
                // SAFETY: affine_rows wrote every entry.
                let y: Vec<u32> = out.iter().flatten().map(|v| unsafe { v.assume_init() }.to_bits()).collect();
                (least, y)
            };
            let four = run(Isa::Avx2Fma);
            prop_assert_eq!(&four, &run(Isa::Avx512));
            for q in 0..4 {
                let one = |level: Isa| {
                    let mut o = vec![MaybeUninit::<f32>::uninit(); d];
                    let args = ([rows[q]], [k[q]], [base[q]], (gamma32, beta32));
                    // SAFETY: as above.
                    let least = unsafe {
                        if level == Isa::Avx512 {
                            avx512::affine_rows(scr, args.0, args.1, args.2, args.3, [&mut o[..]])
                        } else {
                            avx2::affine_rows(scr, args.0, args.1, args.2, args.3, [&mut o[..]])
                        }
                    };
                    // SAFETY: affine_rows wrote every entry.
                    (least, o.iter().map(|v| unsafe { v.assume_init() }.to_bits()).collect::<Vec<_>>())
                };
                // Each row alone, γ and β as given, is its row of the four, γ and β widened.
                let (least, y) = one(Isa::Avx2Fma);
                prop_assert_eq!(&(least, y.clone()), &one(Isa::Avx512));
                prop_assert_eq!(least[0], four.0[q]);
                prop_assert_eq!(&y[..], &four.1[q * d..(q + 1) * d]);
            }
        }
    }

    /// Both vector levels' `exp` lanes over rows with masked entries, entries below −708 and
    /// lengths across the steps and the 256-term blocks: each term its twin bit for bit, the
    /// sum within the summation bound of the twin's terms, with and without the clamp where
    /// it may be left out.
    #[test]
    fn exp_lanes_are_their_twin(z in level_rows(), m in 0.0f64..40.0) {
        let in_range: Vec<f32> = z.iter().map(|&v| v.max(-600.0)).collect();
        for level in vector_levels() {
            for (row, clamp) in [(&z, true), (&in_range, false), (&in_range, true)] {
                let (out, pair, twin) = exp_lanes_and_twin(level, row, m + 30.0, clamp);
                let bits = |v: &[f64]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
                prop_assert_eq!(bits(&out), bits(&twin));
                prop_assert!(sum_within_bound(pair, &twin).is_ok(), "{:?}", sum_within_bound(pair, &twin));
            }
        }
    }

    /// The norms give the same bits at both vector levels: LayerNorm and RMSNorm of one row
    /// and of a batch, with γ and β. (The softmax family's `exp` differs between the levels:
    /// each level is checked against the reference in `softmax_family_paths_round_the_reference`
    /// and against its twin in `exp_lanes_are_their_twin`.)
    #[test]
    fn vector_levels_agree_on_the_norms((x, eps) in rows32()) {
        if !Isa::Avx512.is_available() {
            return Ok(());
        }
        let d = x.len();
        let g: Vec<f32> = (0..d).map(|i| 0.5 + (i % 7) as f32 / 7.0).collect();
        let b: Vec<f32> = (0..d).map(|i| (i % 5) as f32 - 2.0).collect();
        // Six rows, so that the four-row output pass runs, with zero-mean rows (the screen about
        // zero) beside the others (the rows then go one at a time).
        let zero_mean: Vec<f32> = (0..d)
            .map(|i| match (i % 2, i + 1 == d) {
                (0, true) => 0.0,
                (0, false) => x[i],
                _ => -x[i - 1],
            })
            .collect();
        let rev: Vec<f32> = x.iter().rev().copied().collect();
        let batch: Vec<f32> = [&x[..], &rev, &zero_mean, &x, &zero_mean, &rev].concat();
        let all = |level: Isa| {
            with_isa(level, || {
                let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
                (
                    bits(norms::layer_norm(&x, eps, Some(&g), Some(&b))),
                    bits(norms::rms_norm(&x, eps, Some(&g))),
                    bits(norms::layer_norm_rows(&batch, d, eps, Some(&g), Some(&b))),
                    bits(norms::rms_norm_rows(&batch, d, eps, Some(&g))),
                )
            })
        };
        prop_assert_eq!(all(Isa::Avx2Fma), all(Isa::Avx512));
    }
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The AVX-512 scores of the rankings are the AVX2 scores bit for bit (dot products,
    /// squared distances, sums of squares, the tokens' largest magnitudes), at dimensions with
    /// and without a remainder after the sixteen-entry steps.
    #[test]
    fn avx512_scores_are_the_avx2_scores(
        (d, n) in (1usize..70, 1usize..6),
        seed in any::<u64>(),
    ) {
        if !Isa::Avx512.is_available() {
            return Ok(());
        }
        let mut s = seed | 1;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * 10f64.powi((s % 7) as i32 - 3)
        };
        let w: Vec<f32> = (0..d * n).map(|_| next() as f32).collect();
        let x: Vec<f64> = (0..d).map(|_| f64::from(next() as f32)).collect();
        let run = |level: Isa| {
            let (mut kd, mut ke, mut kc) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let (mut md, mut mc, mut sq) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0; n]);
            assert!(rank_scores(level, &w, &x, true, &mut kd, &mut md));
            assert!(rank_scores(level, &w, &x, false, &mut ke, &mut []));
            assert!(cosine_scores(level, &w, &x, &mut kc, &mut mc, &mut sq));
            let b = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
            let b32 = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            (b(kd), b(ke), b(kc), b(sq), b32(md), b32(mc))
        };
        prop_assert_eq!(run(Isa::Avx2Fma), run(Isa::Avx512));
    }
}

/// The rankings' vector pass runs on every vector level, not only where AVX2 is the best the
/// CPU has.
#[cfg(target_arch = "x86_64")]
#[test]
fn rankings_run_their_lanes_on_every_vector_level() {
    let (d, n) = (8, 3);
    let w: Vec<f32> = (0..d * n).map(|i| i as f32 / 10.0).collect();
    let x: Vec<f64> = (0..d).map(|i| 1.0 - i as f64 / 8.0).collect();
    for level in vector_levels() {
        let (mut keys, mut col_max, mut sq) = (vec![0.0; n], vec![0.0f32; n], vec![0.0; n]);
        assert!(
            rank_scores(level, &w, &x, true, &mut keys, &mut col_max),
            "{level:?}"
        );
        assert!(
            rank_scores(level, &w, &x, false, &mut keys, &mut col_max),
            "{level:?}"
        );
        assert!(
            cosine_scores(level, &w, &x, &mut keys, &mut col_max, &mut sq),
            "{level:?}"
        );
    }
    assert!(!rank_scores(
        Isa::Scalar,
        &w,
        &x,
        true,
        &mut [0.0; 3],
        &mut [0.0; 3]
    ));
}

/// The special rows leave the vector path for the shared scalar handling, unchanged.
#[test]
fn special_rows_agree_on_every_path() {
    let rows: [&[f32]; 5] = [
        &[],
        &[1.0, f32::NAN],
        &[f32::INFINITY, 0.0, f32::INFINITY],
        &[f32::NEG_INFINITY; 3],
        &[0.5; 20],
    ];
    for z in rows {
        let want = with_isa(Isa::Scalar, || {
            (
                softmax::softmax(z),
                softmax::log_softmax(z),
                norms::layer_norm(z, 0.0, None, None),
                norms::rms_norm(z, 0.0, None),
            )
        });
        for level in levels() {
            let got = with_isa(level, || {
                (
                    softmax::softmax(z),
                    softmax::log_softmax(z),
                    norms::layer_norm(z, 0.0, None, None),
                    norms::rms_norm(z, 0.0, None),
                )
            });
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got.0), bits(&want.0), "{level:?} softmax {z:?}");
            assert_eq!(bits(&got.1), bits(&want.1), "{level:?} log_softmax {z:?}");
            assert_eq!(bits(&got.2), bits(&want.2), "{level:?} layer_norm {z:?}");
            assert_eq!(bits(&got.3), bits(&want.3), "{level:?} rms_norm {z:?}");
        }
    }
}

/// The vector LayerNorm's accuracy guard recomputes few entries of ordinary rows: of 200
/// rows of each of 768 and 4096 uniform entries (a mean far from the spread), fewer than 4 %
/// have any entry below the floor (about `n·2⁻³¹` in normalized units, so ~0.05 % and ~0.7 %
/// are expected) and no row more than two; and the output pass's screen flags as few rows
/// for that recomputation.
#[cfg(target_arch = "x86_64")]
#[test]
fn vector_norm_guard_is_rare_on_ordinary_rows() {
    if !Isa::Avx2Fma.is_available() {
        return;
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows = 200;
    for n in [768, 4096] {
        let (mut touched, mut most, mut flagged) = (0, 0, 0);
        for _ in 0..rows {
            let mu = 200.0 * uniform() - 100.0;
            let x: Vec<f32> = (0..n)
                .map(|_| (mu + 20.0 * uniform() - 10.0) as f32)
                .collect();
            let (_, fixed) =
                norm_vector(Isa::Avx2Fma, &x, 1e-5, true, None, None).expect("vector path");
            touched += usize::from(fixed > 0);
            most = most.max(fixed);
            // SAFETY: AVX2 and FMA are available.
            let row = unsafe { norm_row(Isa::Avx2Fma, &x, 1e-5, true) }.expect("vector path");
            flagged += usize::from(x.iter().any(|&v| admits(row.screen, v)));
        }
        assert!(
            touched * 25 < rows && most <= 2,
            "n = {n}: {touched} of {rows} rows recomputed entries, at most {most} a row"
        );
        assert!(
            flagged * 25 < rows,
            "n = {n}: the screen flagged {flagged} of {rows} rows"
        );
    }
}

/// LayerNorm rows for the screen: a mean far from the spread, or near zero (the screen about
/// zero), or a row of pairs symmetric about its mean (entries at it and next to it).
fn screen_rows() -> impl Strategy<Value = Vec<f32>> {
    (
        prop_oneof![-1e4f32..1e4, Just(0.0f32), -1e-3f32..1e-3],
        prop_oneof![Just(1.0f32), 1e-3f32..1e3],
        proptest::collection::vec(-10.0f32..10.0, 2..300),
        any::<bool>(),
    )
        .prop_map(|(mu, s, v, symmetric)| {
            let mut x: Vec<f32> = v.iter().map(|&e| mu + s * e).collect();
            if symmetric {
                // Pairs μ ± d (exact about μ = 0), an unpaired last entry μ, the first two μ:
                // the mean is μ exactly.
                let n = x.len();
                for (k, e) in x.iter_mut().enumerate() {
                    let d = s * v[k / 2 * 2].abs();
                    *e = if k + 1 == n && n % 2 == 1 {
                        mu
                    } else if k % 2 == 0 {
                        mu + d
                    } else {
                        mu - d
                    };
                }
                x[0] = mu;
                x[1] = mu;
            }
            x
        })
}

/// The screen's value of `v` for a row's screen, and whether it admits `v`.
#[cfg(target_arch = "x86_64")]
fn admits(screen: Screen, v: f32) -> bool {
    let d = match screen.kind {
        avx2::screen::INTERVAL => v.to_bits().wrapping_sub(screen.base),
        avx2::screen::MAGNITUDE => v.to_bits() << 1,
        _ => u32::MAX,
    };
    screen.flags(d)
}

/// The screen of LayerNorm row `x` admits every `f32` whose normalized value, as the lanes
/// compute it, is below the floor (the `f32` values next to the mean, points across the
/// floor's width on both sides, and the row's own entries), and nothing much farther: no value
/// whose normalized value exceeds four floors plus the spacing of the `f32` there. Returns how
/// many probes were below the floor (0 for a row the vector path leaves to the scalar one).
#[cfg(target_arch = "x86_64")]
fn screen_holds(x: &[f32], eps: f64) -> Result<usize, TestCaseError> {
    // SAFETY: AVX2 and FMA are available.
    let Some(row) = (unsafe { norm_row(Isa::Avx2Fma, x, eps, true) }) else {
        return Ok(0);
    };
    let y = |v: f32| (f64::from(v) - row.c).mul_add(row.r, -row.c2);
    let m = row.c + row.c2 / row.r;
    let width = row.floor / row.r;
    let mut probes = Vec::new();
    let (mut up, mut down) = (m as f32, m as f32);
    for _ in 0..64 {
        probes.extend([up, down]);
        (up, down) = (up.next_up(), down.next_down());
    }
    for j in -40..=40 {
        probes.push((m + width * f64::from(j) / 16.0) as f32);
    }
    probes.extend(x.iter().copied());
    let u = f64::EPSILON / 2.0;
    let mut below = 0;
    for v in probes {
        let spacing = f64::from(v.abs().next_up() - v.abs());
        if y(v).abs() < row.floor {
            below += 1;
            prop_assert!(
                admits(row.screen, v),
                "{v:e}: |ŷ| = {:e} < floor {:e}, screen {:?}",
                y(v).abs(),
                row.floor,
                row.screen
            );
        }
        if admits(row.screen, v) {
            let slack =
                4.0 * row.floor + row.r * (4.0 * spacing + 16.0 * u * (row.c.abs() + m.abs()));
            prop_assert!(
                y(v).abs() <= slack,
                "{v:e} admitted: |ŷ| = {:e}, slack {slack:e}, screen {:?}",
                y(v).abs(),
                row.screen
            );
        }
    }
    Ok(below)
}

/// The screen at its edges, on rows whose mean is one of their entries (so some entry is
/// below the floor): subnormals of either sign, values next to ±2¹²⁷ (ends near `f32::MAX`)
/// and ±2¹⁰⁰ one ulp apart, a negative mean with signed zeros in the row, and zero means (the
/// screen about zero). Every row reaches the vector path and has probes below the floor; each
/// also goes through the kernel, which recomputes exactly the entries below the floor.
#[cfg(target_arch = "x86_64")]
#[test]
fn screen_admits_every_entry_below_the_floor_at_the_edges() {
    if !Isa::Avx2Fma.is_available() {
        return;
    }
    let tiny = f32::from_bits(1);
    let ulp_steps = |mid: f32, ulp: f32| -> Vec<f32> {
        (0..42)
            .map(|i| mid + ulp * ((i % 7) as f32 - 3.0))
            .collect()
    };
    let rows: Vec<Vec<f32>> = vec![
        (0..40).map(|i| tiny * (i % 5) as f32).collect(),
        (0..40).map(|i| -tiny * (i % 5) as f32).collect(),
        ulp_steps(2f32.powi(127), 2f32.powi(104)),
        ulp_steps(-(2f32.powi(127)), 2f32.powi(104)),
        ulp_steps(2f32.powi(100), 2f32.powi(77)),
        ulp_steps(-(2f32.powi(100)), 2f32.powi(77)),
        (0..42).map(|i| [-0.0, -1e-3, -2e-3][i % 3]).collect(),
        (0..40).map(|i| [0.0, -0.0, 1.5, -1.5][i % 4]).collect(),
        (0..41).map(|i| (i as f32 - 20.0) * 1e-38).collect(),
    ];
    for x in &rows {
        for eps in [0.0, 1e-5] {
            let probes = screen_holds(x, eps).unwrap();
            assert!(probes > 0, "no probe below the floor: eps {eps}, {x:?}");
            for level in vector_levels() {
                // SAFETY: a vector level this CPU runs.
                let row = unsafe { norm_row(level, x, eps, true) }.expect("vector path");
                let below = x
                    .iter()
                    .filter(|&&v| (f64::from(v) - row.c).mul_add(row.r, -row.c2).abs() < row.floor)
                    .count();
                let (_, fixed) = norm_vector(level, x, eps, true, None, None).expect("vector path");
                assert!(
                    below > 0 && fixed == below,
                    "{level:?}: {fixed} of {below}, {x:?}"
                );
            }
        }
    }
}

/// The screen's ends round outward to `f32`, to ±∞ past the range; a screen whose end is ±∞
/// admits the values next to it, and nothing of the other sign.
#[cfg(target_arch = "x86_64")]
#[test]
fn screen_ends_round_outward_to_the_infinities() {
    let max = f64::from(f32::MAX);
    assert_eq!(up_f32(max), f32::MAX);
    assert_eq!(up_f32(max * (1.0 + 1e-12)), f32::INFINITY);
    assert_eq!(down_f32(max * 1.5), f32::MAX);
    assert_eq!(down_f32(-max * (1.0 + 1e-12)), f32::NEG_INFINITY);
    assert_eq!(up_f32(-max * 1.5), -f32::MAX);
    // 0.1 rounds up to the f32 0.1: that is its upper end, and the f32 below it the lower.
    assert_eq!((down_f32(0.1), up_f32(0.1)), (0.1f32.next_down(), 0.1f32));
    // A mean next to f32::MAX with a floor wide enough to reach past it.
    let s = Screen::around_mean(max, 0.0, max * 1e-6);
    assert_eq!(s.kind, avx2::screen::INTERVAL);
    for v in [f32::MAX, f32::MAX.next_down(), f32::INFINITY] {
        assert!(admits(s, v), "{v:e}");
    }
    assert!(!admits(s, 1.0) && !admits(s, -f32::MAX));
    let s = Screen::around_mean(-max, 0.0, max * 1e-6);
    assert!(admits(s, -f32::MAX) && admits(s, f32::NEG_INFINITY) && !admits(s, f32::MAX));
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// [`screen_holds`] on rows of every kind the screen meets: one sign, about zero,
    /// symmetric pairs with entries at the mean.
    #[test]
    fn screen_admits_every_entry_below_the_floor(x in screen_rows(), eps in prop_oneof![Just(0.0f64), Just(1e-5)]) {
        if Isa::Avx2Fma.is_available() {
            screen_holds(&x, eps)?;
        }
    }

    /// The output pass returns, per row, the least screen value of the row's entries (the
    /// lanes and the remainder alike), for one row and for four together, on every vector
    /// level, at lengths that end on a full step, after a last step of eight entries (on the
    /// AVX-512 lanes, which take sixteen) and after a remainder.
    #[test]
    fn output_pass_returns_the_least_screen_value(
        (n, rows) in prop_oneof![Just(32usize), Just(37), Just(40), Just(45)].prop_flat_map(|n| {
            (Just(n), proptest::collection::vec(proptest::collection::vec(-1e3f32..1e3, n), 4))
        }),
        bases in proptest::array::uniform4(any::<u32>()),
        kind in prop_oneof![Just(avx2::screen::INTERVAL), Just(avx2::screen::MAGNITUDE)],
    ) {
        let want: Vec<u32> = rows
            .iter()
            .zip(bases)
            .map(|(x, base)| {
                let s = Screen { kind, base, width: 0 };
                x.iter().map(|v| match s.kind {
                    avx2::screen::INTERVAL => v.to_bits().wrapping_sub(base),
                    _ => v.to_bits() << 1,
                }).min().unwrap()
            })
            .collect();
        let k = (1.5, 0.25, 0.125);
        let x = [&rows[0][..], &rows[1][..], &rows[2][..], &rows[3][..]];
        for level in vector_levels() {
            let mut out = vec![vec![MaybeUninit::<f32>::uninit(); n]; 4];
            let [o0, o1, o2, o3] = &mut out[..] else { unreachable!() };
            let o = [o0, o1, o2, o3].map(|o| &mut o[..]);
            // SAFETY: the level runs here; every row and output has n entries.
            let four = unsafe {
                if level == Isa::Avx512 {
                    avx512::affine_rows::<4, f32>(kind, x, [k; 4], bases, (None, None), o)
                } else {
                    avx2::affine_rows::<4, f32>(kind, x, [k; 4], bases, (None, None), o)
                }
            };
            prop_assert_eq!(&four[..], &want[..]);
            for q in 0..4 {
                let mut o = vec![MaybeUninit::<f32>::uninit(); n];
                let args = (kind, [x[q]], [k], [bases[q]]);
                // SAFETY: as above.
                let one = unsafe {
                    if level == Isa::Avx512 {
                        avx512::affine_rows::<1, f32>(args.0, args.1, args.2, args.3, (None, None), [&mut o[..]])
                    } else {
                        avx2::affine_rows::<1, f32>(args.0, args.1, args.2, args.3, (None, None), [&mut o[..]])
                    }
                };
                prop_assert_eq!(one[0], want[q]);
            }
        }
    }
}

/// Rows with entries at or within a few `f32` ulps of their mean, and rows whose plain sums
/// lose the mean altogether (tiny entries among large ones that cancel; an entry `10⁻¹⁵`
/// from a mean of ±3): the vector path recomputes those entries (the count says it did), and
/// every entry on both paths, with and without γ and β, rounds the `f64` reference within the
/// path's bound ([`narrow_norm_err`]).
#[cfg(target_arch = "x86_64")]
#[test]
fn near_mean_entries_are_recomputed_and_round_the_reference() {
    if !Isa::Avx2Fma.is_available() {
        return;
    }
    let mut rows: Vec<Vec<f32>> = CANCELLING_ROWS
        .iter()
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect();
    for (mu, n) in [
        (0.0f32, 4096),
        (1.0, 4096),
        (-37.25, 768),
        (1000.0, 4096),
        (1.0, 40),
    ] {
        // symmetric pairs around μ (exact in f32), then μ and its two neighbours
        let mut x = Vec::with_capacity(n);
        for k in 0..(n - 4) / 2 {
            let d = (k % 97) as f32 * 0.25 + 0.125;
            x.extend([mu + d, mu - d]);
        }
        x.extend([mu, mu.next_up(), mu, mu.next_down()]);
        rows.push(x);
    }
    for x in &rows {
        let (_, fixed) = norm_vector(Isa::Avx2Fma, x, 1e-5, true, None, None).expect("vector path");
        assert!(fixed >= 1, "no entry recomputed in a row of {}", x.len());
        for eps in [0.0, 1e-5] {
            for affine in [false, true] {
                norm_paths(x, eps, affine).unwrap();
            }
        }
    }
}

/// One row of `d` entries of a batch, by `kind`: ordinary (a mean `mu` and a spread `s`, as
/// [`rows32`]), constant, with a NaN, with +∞, or symmetric about `mu` with entries at and
/// next to it (the vector LayerNorm recomputes those).
fn batch_row(kind: u8, mu: f32, s: f32, v: &[f32]) -> Vec<f32> {
    let d = v.len();
    let mut row: Vec<f32> = v.iter().map(|&x| mu + s * x).collect();
    match kind {
        2 => row = vec![mu; d],
        3 => row[d / 2] = f32::NAN,
        4 => row[d - 1] = f32::INFINITY,
        5 => {
            for (k, e) in row.iter_mut().enumerate() {
                let dv = (k / 2 % 97) as f32 * 0.25 + 0.125;
                *e = if k % 2 == 0 { mu + dv } else { mu - dv };
            }
            row[0] = mu;
            if d >= 4 {
                row[1] = mu;
                row[2] = mu.next_up();
                row[3] = mu.next_down();
            }
        }
        _ => {}
    }
    row
}

/// Batches of one to nine rows of `d` entries (`d` short or around a thousand) and of
/// [`WIDEN_FROM`] to two more (γ and β widened for those), rows of every [`batch_row`] kind
/// (ordinary ones the most often), and ε.
fn batch32() -> impl Strategy<Value = (usize, Vec<f32>, f32)> {
    // Batches below WIDEN_FROM rows read γ and β as given, the others widened.
    let rows = prop_oneof![1usize..10, WIDEN_FROM..WIDEN_FROM + 3];
    (prop_oneof![1usize..40, 900usize..1100], rows).prop_flat_map(|(d, rows)| {
        // Ordinary rows more often than special ones, so that steps of four occur.
        let kind = prop_oneof![
            6 => Just(0u8),
            2 => Just(5u8),
            1 => Just(2u8),
            1 => Just(3u8),
            1 => Just(4u8),
        ];
        let row = (
            kind,
            -1e4f32..1e4,
            prop_oneof![Just(1.0f32), 1e-3f32..1e3],
            proptest::collection::vec(-10.0f32..10.0, d),
        )
            .prop_map(|(kind, mu, s, v)| batch_row(kind, mu, s, &v));
        (
            Just(d),
            proptest::collection::vec(row, rows).prop_map(|r| r.concat()),
            prop_oneof![Just(0.0f32), Just(1e-5f32), 1e-6f32..1.0],
        )
    })
}

/// The batch norms against the one-row norms on every level: the same bits, row by row, with
/// and without γ and β.
fn batch_is_rows(d: usize, x: &[f32], eps: f32) -> Result<(), TestCaseError> {
    let gamma: Vec<f32> = (0..d).map(|i| 0.5 + (i % 7) as f32 * 0.25 - 1.0).collect();
    let beta: Vec<f32> = (0..d).map(|i| (i % 5) as f32 * 0.125 - 0.25).collect();
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    for level in levels() {
        for (g, b) in [
            (None, None),
            (Some(gamma.as_slice()), Some(beta.as_slice())),
            (None, Some(beta.as_slice())),
        ] {
            let (ln, rms) = with_isa(level, || {
                (
                    norms::layer_norm_rows(x, d, eps, g, b),
                    norms::rms_norm_rows(x, d, eps, g),
                )
            });
            let (ln_rows, rms_rows) = with_isa(level, || {
                (
                    x.chunks(d)
                        .flat_map(|r| norms::layer_norm(r, eps, g, b))
                        .collect(),
                    x.chunks(d)
                        .flat_map(|r| norms::rms_norm(r, eps, g))
                        .collect(),
                )
            });
            prop_assert_eq!(
                bits(ln),
                bits(ln_rows),
                "{:?} layer_norm_rows d = {}",
                level,
                d
            );
            prop_assert_eq!(
                bits(rms),
                bits(rms_rows),
                "{:?} rms_norm_rows d = {}",
                level,
                d
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn batch_norms_are_the_row_norms((d, x, eps) in batch32()) {
        batch_is_rows(d, &x, eps)?;
    }
}

/// Eleven rows of 4096 (a full step of four rows with two near-mean rows, a step broken by
/// special rows, a short last step): each the one-row result bit for bit, and the near-mean
/// rows recomputed (checked: the vector path does); the same for batches of the cancelling
/// rows (full steps with them in); and `f64` batches, which go row by row.
#[test]
fn batch_norms_over_steps_are_the_row_norms() {
    let d = 4096;
    let v: Vec<f32> = (0..d)
        .map(|i| ((i * 37 % 1001) as f32 - 500.0) / 50.0)
        .collect();
    let kinds = [0u8, 5, 0, 5, 2, 3, 4, 0, 0, 5, 1];
    let rows: Vec<Vec<f32>> = kinds
        .iter()
        .enumerate()
        .map(|(k, &kind)| batch_row(kind, (k as f32 - 5.0) * 3.5, 1.5, &v))
        .collect();
    #[cfg(target_arch = "x86_64")]
    if Isa::Avx2Fma.is_available() {
        let (_, fixed) =
            norm_vector(Isa::Avx2Fma, &rows[1], 1e-5, true, None, None).expect("vector path");
        assert!(fixed >= 1, "the near-mean row is not recomputed");
    }
    batch_is_rows(d, &rows.concat(), 1e-5).unwrap();
    // Rows whose plain sums lose the mean, whose recomputed entries differ from the plain
    // pass's, among ordinary rows: in the first step of four and in the second.
    for trap in CANCELLING_ROWS {
        let trap: Vec<f32> = trap.iter().map(|&v| v as f32).collect();
        let d = trap.len();
        let plain: Vec<f32> = (0..d).map(|i| i as f32 * 0.75 - 1.0).collect();
        let x = [&plain, &trap, &plain, &trap, &plain, &plain, &trap, &plain]
            .map(|r| r.as_slice())
            .concat();
        for eps in [0.0, 1e-5] {
            batch_is_rows(d, &x, eps).unwrap();
        }
    }
    let x64: Vec<f64> = rows.concat().into_iter().map(f64::from).collect();
    let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
    assert_eq!(
        bits(norms::layer_norm_rows(&x64, d, 1e-5, None, None)),
        bits(
            x64.chunks(d)
                .flat_map(|r| norms::layer_norm(r, 1e-5, None, None))
                .collect()
        )
    );
}

#[test]
#[should_panic(expected = "layer_norm_rows: x has 10 entries, not a whole number of rows of d = 4")]
fn batch_norms_name_a_ragged_batch() {
    norms::layer_norm_rows(&[0.0f32; 10], 4, 1e-5, None, None);
}

#[test]
#[should_panic(expected = "rms_norm_rows (x vs gamma)")]
fn batch_norms_name_a_short_gamma() {
    norms::rms_norm_rows(&[0.0f32; 8], 4, 1e-5, Some(&[1.0; 3]));
}

#[test]
#[should_panic(expected = "layer_norm_rows: eps must be a number >= 0")]
fn batch_norms_check_eps_on_an_empty_batch() {
    norms::layer_norm_rows::<f32>(&[], 4, -1.0, None, None);
}
