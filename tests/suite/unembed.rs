//! Properties of the unembedding (module `unembed`): logits, argmax-dot, nearest token, MIPS.
//! Exact on rationals; f32 and f64 on integer lattices where no rounding can flip a ranking.

use nalgebra::DMatrix;
use num_rational::BigRational;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use transformer_laws::geometry::{dot, squared_distance};
use transformer_laws::kernels::{Isa, with_isa};
use transformer_laws::strategies::{rational, small_int};
use transformer_laws::unembed::*;
use transformer_laws::{Real, Ring};

/// Every level this CPU runs.
fn levels() -> Vec<Isa> {
    [Isa::Scalar, Isa::Avx2Fma, Isa::Avx512]
        .into_iter()
        .filter(|l| l.is_available())
        .collect()
}

/// `(W, x)`: V tokens of dimension d as the columns of W, and a query.
fn tokens_and_query<T: Ring, S: Strategy<Value = T> + Clone>(
    elem: S,
) -> impl Strategy<Value = (DMatrix<T>, Vec<T>)> {
    (1usize..=4, 1usize..=6).prop_flat_map(move |(d, v)| {
        (
            proptest::collection::vec(elem.clone(), d * v)
                .prop_map(move |flat| DMatrix::from_vec(d, v, flat)),
            proptest::collection::vec(elem.clone(), d),
        )
    })
}

fn col<T: Ring>(w: &DMatrix<T>, i: usize) -> Vec<T> {
    w.column(i).iter().cloned().collect()
}

/// The index of the first best score (ties to the lowest index), computed naively.
fn naive_best<T: Ring>(scores: &[T], greater: bool) -> usize {
    let mut best = 0;
    for (i, s) in scores.iter().enumerate() {
        if (greater && *s > scores[best]) || (!greater && *s < scores[best]) {
            best = i;
        }
    }
    best
}

proptest! {
    /// logits(W, x)ᵢ = wᵢ·x and argmax_dot picks the first largest, exactly on rationals.
    #[test]
    fn logits_and_argmax_exact((w, x) in tokens_and_query(rational(9, 4))) {
        let l = logits(&w, &x);
        for (i, li) in l.iter().enumerate() {
            prop_assert_eq!(li, &dot(&col(&w, i), &x));
        }
        prop_assert_eq!(argmax_dot(&w, &x), Some(naive_best(&l, true)));
    }

    /// nearest_euclidean(W, x) = argmax_i (x·wᵢ − |wᵢ|²/2), exactly on rationals
    /// (proofs/argmax-dot-vs-nearest.md (c)).
    #[test]
    fn nearest_is_biased_argmax_exact((w, x) in tokens_and_query(rational(9, 4))) {
        let half = BigRational::new(1.into(), 2.into());
        let biased: Vec<BigRational> = (0..w.ncols())
            .map(|i| { let c = col(&w, i); dot(&x, &c) - half.clone() * dot(&c, &c) })
            .collect();
        prop_assert_eq!(nearest_euclidean(&w, &x), Some(naive_best(&biased, true)));
        let d2: Vec<BigRational> = (0..w.ncols()).map(|i| squared_distance(&col(&w, i), &x)).collect();
        prop_assert_eq!(nearest_euclidean(&w, &x), Some(naive_best(&d2, false)));
    }

    /// argmax_dot depends only on the direction of x: the same for every rational α > 0.
    #[test]
    fn argmax_dot_scale_invariant_exact((w, x) in tokens_and_query(rational(9, 4)), a in rational(20, 7)) {
        let alpha = if a > BigRational::from_integer(0.into()) { a } else { -a + BigRational::from_integer(1.into()) };
        let ax: Vec<BigRational> = x.iter().map(|v| alpha.clone() * v).collect();
        prop_assert_eq!(argmax_dot(&w, &ax), argmax_dot(&w, &x));
    }
}

/// On small-integer lattices every logit and squared distance is exact in f32 and f64, so the
/// float rankings equal the rational ones.
fn float_matches_rational<T: Real>(w: DMatrix<T>, x: Vec<T>) -> Result<(), TestCaseError> {
    let q = |v: T| BigRational::from_integer((v.widen() as i64).into());
    let wq = w.map(q);
    let xq: Vec<BigRational> = x.iter().map(|&v| q(v)).collect();
    prop_assert_eq!(argmax_dot(&w, &x), argmax_dot(&wq, &xq));
    prop_assert_eq!(nearest_euclidean(&w, &x), nearest_euclidean(&wq, &xq));
    Ok(())
}

/// MIPS: with the augmentation, nearest-neighbour search finds the top logit whenever that
/// top logit is unique (integer lattice: logit gaps ≥ 1, far above the rounding of the extra
/// coordinate, which is ≤ ulp(M²) ≪ 1 here).
fn mips_finds_argmax<T: Real>(w: DMatrix<T>, x: Vec<T>) -> Result<(), TestCaseError> {
    let l = logits(&w, &x);
    let top = l.iter().cloned().fold(T::neg_infinity(), T::max);
    prop_assume!(l.iter().filter(|&&v| v == top).count() == 1);
    let w2 = mips_augment(&w, None);
    prop_assert_eq!(nearest_euclidean(&w2, &mips_query(&x)), argmax_dot(&w, &x));
    Ok(())
}

proptest! {
    #[test]
    fn float_matches_rational_f32((w, x) in tokens_and_query(small_int::<f32>())) { float_matches_rational(w, x)?; }
    #[test]
    fn float_matches_rational_f64((w, x) in tokens_and_query(small_int::<f64>())) { float_matches_rational(w, x)?; }
    #[test]
    fn mips_finds_argmax_f32((w, x) in tokens_and_query(small_int::<f32>())) { mips_finds_argmax(w, x)?; }
    #[test]
    fn mips_finds_argmax_f64((w, x) in tokens_and_query(small_int::<f64>())) { mips_finds_argmax(w, x)?; }
}

/// nearest_cosine is the largest cosine, not the smallest.
#[test]
fn nearest_cosine_is_the_largest_cosine() {
    use transformer_laws::unembed::nearest_cosine;
    let w = nalgebra::DMatrix::from_column_slice(2, 3, &[1.0f64, 0.0, 3.0, 3.0, -1.0, 0.5]);
    assert_eq!(nearest_cosine(&w, &[1.0, 1.0]), Some(1));
    assert_eq!(nearest_cosine(&w, &[1.0, 0.1]), Some(0));
    assert_eq!(nearest_cosine(&w, &[-1.0, 0.2]), Some(2));
    let w32 = w.map(|v| v as f32);
    assert_eq!(nearest_cosine(&w32, &[1.0, 1.0]), Some(1));
    assert_eq!(nearest_cosine(&w32, &[-1.0, 0.2]), Some(2));
}

/// A score lost to cancellation still ranks by its exact value. Token 1's exact score is 1, but
/// its floating-point score loses the 1 and says 0 — below token 0's 0.75: its error window
/// (from Σ|terms|, astronomically larger than the score) has to reach the best, and the rational
/// re-comparison then picks it. Token 2 (−1) wins for −x. f32: 2¹²⁰ + 1 − 2¹²⁰ in one f64 lane
/// (entries 0, 8 and 16 of 24), and in the tail after the lanes (3 entries). f64: the compensated
/// Dot2 keeps that 1 in its correction term, so its case also loses the correction:
/// 2³⁰⁰ + 2²⁰⁰ + 1 − 2²⁰⁰ − 2³⁰⁰.
fn cancellation_is_ranked_exactly<T: Real>(d: usize, lost: &[(usize, f64)]) {
    let mut cols = vec![T::zero(); 3 * d];
    cols[0] = T::narrow(0.75);
    for &(i, v) in lost {
        cols[d + i] = T::narrow(v);
    }
    cols[2 * d] = -T::one();
    let w = DMatrix::from_column_slice(d, 3, &cols);
    let x = vec![T::one(); d];
    assert_eq!(argmax_dot(&w, &x), Some(1));
    let minus: Vec<T> = x.iter().map(|&v| -v).collect();
    assert_eq!(argmax_dot(&w, &minus), Some(2));
}

#[test]
fn cancellation_is_ranked_exactly_f32() {
    let big = 2f64.powi(120);
    cancellation_is_ranked_exactly::<f32>(24, &[(0, big), (8, 1.0), (16, -big)]);
    cancellation_is_ranked_exactly::<f32>(3, &[(0, big), (1, 1.0), (2, -big)]);
}

#[test]
fn cancellation_is_ranked_exactly_f64() {
    let (a, b) = (2f64.powi(300), 2f64.powi(200));
    cancellation_is_ranked_exactly::<f64>(17, &[(0, a), (1, b), (2, 1.0), (3, -b), (4, -a)]);
}

// ---- the f32 ranking's vector path against the exact scores --------------------------------

/// f32 entries across the whole exponent range: small integers, signed powers of two from 2⁻¹⁴⁹
/// to 2¹²⁷, and ordinary values.
fn wide_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        (-4i32..=4).prop_map(|v| v as f32),
        (-149i32..=127, any::<bool>()).prop_map(|(e, neg)| {
            let v = 2f64.powi(e) as f32;
            if neg { -v } else { v }
        }),
        -8.0f32..8.0,
    ]
}

/// A token near `base`: a copy (an exact tie), one entry one ulp up or down, two entries
/// swapped, a pair of huge entries that cancel (`±2¹⁰⁰`, the rest lost to rounding in `f64`),
/// or an unrelated token.
fn near_token(base: Vec<f32>) -> impl Strategy<Value = Vec<f32>> {
    let d = base.len();
    (
        0usize..5,
        0..d,
        0..d,
        any::<bool>(),
        proptest::collection::vec(wide_f32(), d),
    )
        .prop_map(move |(kind, i, k, up, other)| {
            let mut t = base.clone();
            match kind {
                0 => {}
                1 => t[i] = if up { t[i].next_up() } else { t[i].next_down() },
                2 => t.swap(i, k),
                3 => {
                    let big = 2f32.powi(100);
                    t[i] = if up { big } else { -big };
                    if k != i {
                        t[k] = -t[i];
                    }
                }
                _ => t = other,
            }
            t
        })
}

/// `(W, x)`: d ∈ 1..=40 (the vector loop's sixteen-entry steps and its tail) and up to eight
/// tokens, all near one base token; x has repeated entries so that swaps and cancelling pairs
/// often tie exactly.
fn near_ties() -> impl Strategy<Value = (DMatrix<f32>, Vec<f32>)> {
    (1usize..=40, 1usize..=8)
        .prop_flat_map(|(d, v)| {
            (
                proptest::collection::vec(wide_f32(), d),
                proptest::collection::vec(prop_oneof![Just(1.0f32), Just(-0.5), wide_f32()], d),
                Just(v),
            )
        })
        .prop_flat_map(|(base, x, v)| {
            let d = base.len();
            (
                proptest::collection::vec(near_token(base), v)
                    .prop_map(move |cols| DMatrix::from_vec(d, v, cols.concat())),
                Just(x),
            )
        })
}

/// The exact winner: scores in rationals, first best.
fn exact_winner(w: &DMatrix<f32>, x: &[f32], dot: bool) -> usize {
    let q = |v: f32| BigRational::from_float(v).expect("finite");
    let xq: Vec<BigRational> = x.iter().map(|&v| q(v)).collect();
    let keys: Vec<BigRational> = (0..w.ncols())
        .map(|j| {
            let c: Vec<BigRational> = w.column(j).iter().map(|&v| q(v)).collect();
            if dot {
                dot_q(&c, &xq)
            } else {
                squared_distance(&c, &xq)
            }
        })
        .collect();
    naive_best(&keys, dot)
}

fn dot_q(a: &[BigRational], b: &[BigRational]) -> BigRational {
    dot(a, b)
}

/// The ranking on every level this CPU runs (the vector path and the scalar reference) equals
/// the exact winner.
fn ranks_exactly(w: &DMatrix<f32>, x: &[f32]) -> Result<(), TestCaseError> {
    let truth = (exact_winner(w, x, true), exact_winner(w, x, false));
    for level in levels() {
        let got = with_isa(level, || (argmax_dot(w, x), nearest_euclidean(w, x)));
        prop_assert_eq!(
            got,
            (Some(truth.0), Some(truth.1)),
            "{:?}: W = {}, x = {:?}",
            level,
            w,
            x
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Near ties of every kind (exact ties, one-ulp nudges, swaps, cancelling ±2¹⁰⁰ pairs):
    /// the vector path's filter never drops the exact winner, and both paths agree with it.
    #[test]
    fn f32_near_ties_rank_exactly((w, x) in near_ties()) {
        ranks_exactly(&w, &x)?;
    }
}

/// Tokens within one rounding of each other: their `f64` scores are equal (`2³⁰ + 2⁻³⁰ − 2³⁰`
/// rounds to 0) while the exact ones differ by 2⁻³⁰, with the winner placed after the computed
/// leader; and the same in the sixteen-entry vector steps (d = 35: entries 0, 17 and 34 fall
/// in different lanes and the tail).
#[test]
fn f32_one_rounding_apart_rank_exactly() -> Result<(), TestCaseError> {
    for (d, at) in [
        (3usize, [0usize, 1, 2]),
        (35, [0, 17, 34]),
        (16, [3, 8, 15]),
    ] {
        let mut cols = vec![0.0f32; 3 * d];
        let (big, small) = (2f32.powi(30), 2f32.powi(-30));
        cols[d + at[0]] = big;
        cols[d + at[1]] = small;
        cols[d + at[2]] = -big;
        // Token 2: the same up to one ulp of the small entry, so just above token 1.
        cols.copy_within(d..2 * d, 2 * d);
        cols[2 * d + at[1]] = small.next_up();
        let w = DMatrix::from_column_slice(d, 3, &cols);
        let x = vec![1.0f32; d];
        assert_eq!(argmax_dot(&w, &x), Some(2), "d = {d}");
        ranks_exactly(&w, &x)?;
        let minus: Vec<f32> = x.iter().map(|&v| -v).collect();
        assert_eq!(argmax_dot(&w, &minus), Some(0), "d = {d}");
        ranks_exactly(&w, &minus)?;
    }
    Ok(())
}

// ---- the multi-threaded and slice forms give the one-thread answers -----------------------

/// `f` on a pool of four threads (more than this machine's cores: the split is real). `f` runs
/// on one of the pool's threads, so a level forced with `with_isa` must be set inside it.
fn on_four_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .expect("a pool")
        .install(f)
}

/// The split and batched forms, and the forms on a slice of tokens, against one call per query
/// on one thread, at every level.
fn parallel_matches<T: Ring + Send + Sync>(
    w: &DMatrix<T>,
    xs: &DMatrix<T>,
) -> Result<(), TestCaseError> {
    for level in levels() {
        let one: Vec<(Option<usize>, Option<usize>)> = with_isa(level, || {
            (0..xs.ncols())
                .map(|k| {
                    let x: Vec<T> = xs.column(k).iter().cloned().collect();
                    (argmax_dot(w, &x), nearest_euclidean(w, &x))
                })
                .collect()
        });
        let (split, batch): (Vec<_>, _) = on_four_threads(|| {
            with_isa(level, || {
                let split = (0..xs.ncols())
                    .map(|k| {
                        let x: Vec<T> = xs.column(k).iter().cloned().collect();
                        (argmax_dot_par(w, &x), nearest_euclidean_par(w, &x))
                    })
                    .collect();
                let batch: Vec<_> = argmax_dot_batch(w, xs)
                    .into_iter()
                    .zip(nearest_euclidean_batch(w, xs))
                    .collect();
                (split, batch)
            })
        });
        let slices: Vec<_> = with_isa(level, || {
            (0..xs.ncols())
                .map(|k| {
                    let x: Vec<T> = xs.column(k).iter().cloned().collect();
                    let d = w.nrows();
                    (
                        argmax_dot_tokens(w.as_slice(), d, &x),
                        nearest_euclidean_tokens(w.as_slice(), d, &x),
                    )
                })
                .collect()
        });
        prop_assert_eq!(&split, &one, "{:?} split", level);
        prop_assert_eq!(&batch, &one, "{:?} batch", level);
        prop_assert_eq!(&slices, &one, "{:?} tokens in a slice", level);
    }
    Ok(())
}

/// The cosine ranking, matrix, slice, split and batched forms, at every level, against the
/// scalar level's matrix form (the reference cosines over every token), query by query.
fn cosine_forms_match<T: Real + Send + Sync>(
    w: &DMatrix<T>,
    xs: &DMatrix<T>,
) -> Result<(), TestCaseError> {
    let d = w.nrows();
    let want: Vec<_> = (0..xs.ncols())
        .map(|k| {
            let x: Vec<T> = xs.column(k).iter().cloned().collect();
            with_isa(Isa::Scalar, || nearest_cosine(w, &x))
        })
        .collect();
    for level in levels() {
        for (k, &want) in want.iter().enumerate() {
            let x: Vec<T> = xs.column(k).iter().cloned().collect();
            let split = on_four_threads(|| with_isa(level, || nearest_cosine_par(w, &x)));
            let got = with_isa(level, || {
                (
                    nearest_cosine(w, &x),
                    nearest_cosine_tokens(w.as_slice(), d, &x),
                    split,
                )
            });
            prop_assert_eq!(got, (want, want, want), "{:?}, query {}", level, k);
        }
        let batch = on_four_threads(|| with_isa(level, || nearest_cosine_batch(w, xs)));
        prop_assert_eq!(&batch, &want, "{:?} batch", level);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Near ties (f32) and batches of up to four queries.
    #[test]
    fn parallel_forms_match_one_thread_f32((w, x) in near_ties(), extra in proptest::collection::vec(wide_f32(), 0..=120)) {
        let d = w.nrows();
        let mut q = x.clone();
        q.extend(extra.iter().take(3 * d));
        let b = q.len() / d;
        let xs = DMatrix::from_column_slice(d, b, &q[..b * d]);
        parallel_matches(&w, &xs)?;
        cosine_forms_match(&w, &xs)?;
    }

    /// More tokens than one task of the split pass holds (2048), with a token of the first
    /// task copied into a later one and nudged by one ulp, or not: the winner may sit in any
    /// task, tied or not.
    #[test]
    fn parallel_split_matches_one_thread_f32(
        (d, v) in (1usize..=20, 2049usize..=5000),
        seed in any::<u64>(),
        (from, to, nudge) in (0usize..2048, 2048usize..2049, 0usize..3),
    ) {
        let mut s = seed;
        let mut w = DMatrix::from_fn(d, v, |_, _| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 16.0 - 8.0
        });
        let to = to + (seed as usize % (v - 2048));
        for i in 0..d {
            w[(i, to)] = w[(i, from)];
        }
        w[(0, to)] = match nudge { 0 => w[(0, to)].next_up(), 1 => w[(0, to)].next_down(), _ => w[(0, to)] };
        let x: Vec<f32> = w.column(from).iter().map(|&e| e * 0.5 + 0.25).collect();
        let xs = DMatrix::from_column_slice(d, 1, &x);
        parallel_matches(&w, &xs)?;
        cosine_forms_match(&w, &xs)?;
    }

    #[test]
    fn parallel_forms_match_one_thread_f64((w, x) in tokens_and_query(small_int::<f64>())) {
        let xs = DMatrix::from_column_slice(x.len(), 1, &x);
        parallel_matches(&w, &xs)?;
        cosine_forms_match(&w, &xs)?;
    }

    #[test]
    fn parallel_forms_match_one_thread_rational((w, x) in tokens_and_query(rational(9, 4))) {
        let xs = DMatrix::from_column_slice(x.len(), 1, &x);
        parallel_matches(&w, &xs)?;
    }
}

/// A planted winner in the last of several tasks, one ulp above an earlier token: the split
/// pass finds it.
#[test]
fn parallel_split_finds_a_late_winner() {
    let (d, v) = (24usize, 9000usize);
    let mut w = DMatrix::from_fn(d, v, |i, j| ((i * 7 + j * 13) % 29) as f32 / 32.0);
    let top = v - 3;
    for i in 0..d {
        w[(i, 5)] = 4.0;
        w[(i, top)] = 4.0;
    }
    w[(7, top)] = 4.0f32.next_up();
    let x = vec![1.0f32; d];
    assert_eq!(argmax_dot(&w, &x), Some(top));
    assert_eq!(on_four_threads(|| argmax_dot_par(&w, &x)), Some(top));
    w[(7, top)] = 4.0;
    assert_eq!(
        on_four_threads(|| argmax_dot_par(&w, &x)),
        Some(5),
        "exact tie: lowest index"
    );
}

#[test]
#[should_panic(expected = "argmax_dot_tokens: 5 entries are not a whole number of tokens of d = 2")]
fn tokens_in_a_slice_must_be_whole() {
    argmax_dot_tokens(&[0.0f32; 5], 2, &[1.0, 1.0]);
}

#[test]
#[should_panic(expected = "nearest_euclidean_tokens (d vs x): length mismatch")]
fn tokens_in_a_slice_match_the_query() {
    nearest_euclidean_tokens(&[0.0f64; 6], 2, &[1.0, 1.0, 1.0]);
}

#[test]
#[should_panic(
    expected = "nearest_cosine_tokens: 3 entries are not a whole number of tokens of d = 0"
)]
fn cosine_tokens_need_a_positive_d() {
    nearest_cosine_tokens(&[0.0f32; 3], 0, &[]);
}
