//! The library half of the `model` subcommand on models built in memory: the unargmaxable scan
//! (`transformer::unargmaxable`), the report (`transformer::report`) and the processed export
//! (`transformer::export`).

mod unargmaxable {
    use nalgebra::DMatrix;
    use num_rational::BigRational;
    use proptest::prelude::*;
    use transformer_laws::transformer::unargmaxable::{
        Method, ScanOptions, Verdict, decide, scan, verify,
    };

    fn keep() -> ScanOptions {
        ScanOptions {
            keep_witnesses: true,
            ..ScanOptions::default()
        }
    }

    /// Every verdict decided, and each certificate re-checked exactly by `verify`.
    fn decided_and_verified(w: &DMatrix<f64>, b: Option<&[f64]>, verdicts: &[Verdict]) {
        for (i, v) in verdicts.iter().enumerate() {
            if let Err(e) = verify(w, b, i, v) {
                panic!("token {i}: {v:?}: {e}");
            }
        }
    }

    fn argmaxable(vs: &[Verdict]) -> Vec<Option<bool>> {
        vs.iter().map(Verdict::argmaxable).collect()
    }

    /// A square's corners, its edge midpoints, its centre and a point inside: only the corners
    /// are vertices. The midpoint of an edge can tie with the two corners (x along the edge's
    /// normal) but never win alone.
    #[test]
    fn a_square_in_the_plane() {
        #[rustfmt::skip]
        let pts = [
            1.0, 1.0,   1.0, -1.0,   -1.0, 1.0,   -1.0, -1.0,   // corners 0–3
            0.0, 1.0,   1.0, 0.0,                               // edge midpoints 4, 5
            0.0, 0.0,   0.5, 0.25,                              // centre 6, inside 7
        ];
        let w = DMatrix::from_column_slice(2, 8, &pts);
        let vs = scan(&w, None, &keep(), &|_| {});
        decided_and_verified(&w, None, &vs);
        assert_eq!(
            argmaxable(&vs),
            [true, true, true, true, false, false, false, false].map(Some)
        );
        // The midpoint (0, 1) is exactly ½(1, 1) + ½(−1, 1).
        let Verdict::Unargmaxable { combination, .. } = &vs[4] else {
            unreachable!()
        };
        let half = BigRational::new(1.into(), 2.into());
        let mut c = combination.clone();
        c.sort_by_key(|(j, _)| *j);
        assert_eq!(c, vec![(0, half.clone()), (2, half)]);
    }

    /// With a bias the question is the upper hull of (wᵢ, bᵢ): three tokens on a line, w = 0,
    /// 1, 2, the middle one's bias moved. Above the chord it wins at x = 0; on it it only ties;
    /// below it, ½ of each neighbour dominates it.
    #[test]
    fn a_bias_lifts_or_sinks_the_middle_token() {
        let w = DMatrix::from_row_slice(1, 3, &[0.0f64, 1.0, 2.0]);
        for (b1, expect) in [(0.25, true), (0.0, false), (-0.5, false)] {
            let b = [0.0, b1, 0.0];
            let vs = scan(&w, Some(&b[..]), &keep(), &|_| {});
            decided_and_verified(&w, Some(&b[..]), &vs);
            assert_eq!(
                argmaxable(&vs),
                [Some(true), Some(expect), Some(true)],
                "b₁ = {b1}"
            );
        }
    }

    /// A token equal to another never wins alone; it is found by hashing with λ = 1 on its twin.
    #[test]
    fn duplicates_are_unargmaxable() {
        let w = DMatrix::from_column_slice(2, 3, &[1.0f64, 0.0, 0.0, 1.0, 1.0, -0.0]);
        let vs = scan(&w, None, &keep(), &|_| {});
        decided_and_verified(&w, None, &vs);
        assert_eq!(argmaxable(&vs), [Some(false), Some(true), Some(false)]);
        assert!(matches!(
            vs[0],
            Verdict::Unargmaxable {
                method: Method::Duplicate,
                ..
            }
        ));
    }

    #[test]
    fn one_token_and_non_finite_tokens() {
        let w = DMatrix::from_column_slice(2, 1, &[0.0f64, 0.0]);
        assert_eq!(argmaxable(&scan(&w, None, &keep(), &|_| {})), [Some(true)]);
        let w = DMatrix::from_column_slice(1, 2, &[f64::NAN, 1.0]);
        let vs = scan(&w, None, &keep(), &|_| {});
        assert!(vs.iter().all(|v| v.argmaxable().is_none()), "{vs:?}");
    }

    /// `verify` is not a rubber stamp: a witness that only ties, a combination that misses the
    /// token by one ulp, and one whose weights do not sum to 1 are all rejected.
    #[test]
    fn verify_rejects_wrong_certificates() {
        let w = DMatrix::from_column_slice(1, 3, &[0.0f64, 1.0, 2.0]);
        let tie = Verdict::Argmaxable {
            witness: Some(vec![0.0]),
            margin: 0.0,
            method: Method::OwnVector,
        };
        assert!(verify(&w, None, 0, &tie).is_err());
        let r = |p: i64, q: i64| BigRational::new(p.into(), q.into());
        let good = Verdict::Unargmaxable {
            combination: vec![(0, r(1, 2)), (2, r(1, 2))],
            method: Method::LinearProgram,
        };
        assert_eq!(verify(&w, None, 1, &good), Ok(()));
        let w_off = DMatrix::from_column_slice(1, 3, &[0.0f64, 1.0 + f64::EPSILON, 2.0]);
        assert!(verify(&w_off, None, 1, &good).is_err());
        let heavy = Verdict::Unargmaxable {
            combination: vec![(0, r(1, 2)), (2, r(3, 4))],
            method: Method::LinearProgram,
        };
        assert!(verify(&w, None, 1, &heavy).is_err());
    }

    /// Random tokens with planted interior points: `k` outer tokens, then tokens that are exact
    /// convex combinations of them (dyadic weights on small-integer vectors, so the planted
    /// point is exact in f64). Every planted token must be found unargmaxable with a
    /// certificate that holds exactly; every outer token that is a vertex — decided
    /// independently by an LP-free test, a random direction where it wins by a clear margin —
    /// must be found argmaxable.
    fn planted(d: usize, outer: &[Vec<i64>], mix: &[(usize, usize, usize)]) {
        let k = outer.len();
        let mut cols: Vec<f64> = outer.iter().flatten().map(|&v| v as f64).collect();
        // ½a + ¼b + ¼c.
        for &(a, b, c) in mix {
            for r in 0..d {
                let v = 0.5 * outer[a][r] as f64 + 0.25 * outer[b][r] as f64 + 0.25 * outer[c][r] as f64;
                cols.push(v);
            }
        }
        let w = DMatrix::from_column_slice(d, k + mix.len(), &cols);
        let vs = scan(&w, None, &keep(), &|_| {});
        for (i, v) in vs.iter().enumerate() {
            match v {
                Verdict::Undecided { reason } => panic!("token {i} undecided: {reason}"),
                _ => verify(&w, None, i, v).unwrap_or_else(|e| panic!("token {i}: {e}")),
            }
        }
        for (m, &(a, b, c)) in mix.iter().enumerate() {
            // A planted point equal to an outer token (a = b = c) is a duplicate, still never top.
            let _ = (a, b, c);
            assert_eq!(vs[k + m].argmaxable(), Some(false), "planted token {}", k + m);
        }
        for i in 0..k {
            // A vertex wins at x = wᵢ − (mean of the others) when its winning margin there is
            // clear; the scan must agree wherever this independent test finds a win.
            let x: Vec<f64> = (0..d)
                .map(|r| {
                    w[(r, i)] - (0..w.ncols()).filter(|&j| j != i).map(|j| w[(r, j)]).sum::<f64>() / (w.ncols() - 1) as f64
                })
                .collect();
            let s = |j: usize| (0..d).map(|r| w[(r, j)] * x[r]).sum::<f64>();
            if (0..w.ncols()).filter(|&j| j != i).all(|j| s(i) > s(j) + 1e-9) {
                assert_eq!(vs[i].argmaxable(), Some(true), "outer token {i}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn planted_interior_points_are_unargmaxable(
            (d, outer, mix) in (1usize..=6, 2usize..=9).prop_flat_map(|(d, k)| (
                Just(d),
                proptest::collection::vec(proptest::collection::vec(-8i64..=8, d), k),
                proptest::collection::vec((0..k, 0..k, 0..k), 1..=4),
            ))
        ) {
            planted(d, &outer, &mix);
        }

        /// Gaussian-like random tokens in a few dimensions, one of them planted strictly inside
        /// with full-dimensional support (a float combination of all others, then rounded): the
        /// scan decides every token, every certificate verifies exactly, and the planted one —
        /// inside by a margin far above the rounding — is unargmaxable.
        #[test]
        fn random_tokens_with_a_rounded_interior_point(
            d in 2usize..=5,
            pts in proptest::collection::vec(-1.0f64..1.0, 5 * 20),
            lam in proptest::collection::vec(0.5f64..1.0, 20),
            v in 8usize..=20,
        ) {
            let mut cols: Vec<f64> = pts[..d * v].to_vec();
            let total: f64 = lam[..v].iter().sum();
            let inner: Vec<f64> = (0..d)
                .map(|r| (0..v).map(|j| lam[j] / total * pts[j * d + r]).sum())
                .collect();
            cols.extend(&inner);
            let w = DMatrix::from_column_slice(d, v + 1, &cols);
            let vs = scan(&w, None, &keep(), &|_| {});
            for (i, verdict) in vs.iter().enumerate() {
                if let Verdict::Undecided { reason } = verdict {
                    prop_assert!(false, "token {i} undecided: {reason}");
                }
                prop_assert_eq!(verify(&w, None, i, verdict), Ok(()), "token {}", i);
            }
            prop_assert_eq!(vs[v].argmaxable(), Some(false));
        }
    }

    /// `decide` (one token, straight to the LP) agrees with the scan on the square.
    #[test]
    fn decide_agrees_with_scan() {
        let w = DMatrix::from_column_slice(2, 5, &[1.0f64, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 0.2, 0.1]);
        let vs = scan(&w, None, &keep(), &|_| {});
        for i in 0..5 {
            let one = decide(&w, None, i, &keep());
            assert_eq!(one.argmaxable(), vs[i].argmaxable(), "token {i}");
            assert_eq!(verify(&w, None, i, &one), Ok(()));
        }
    }

    /// The progress callback counts every token once.
    #[test]
    fn progress_counts_every_token() {
        let w = DMatrix::from_fn(3, 200, |r, j| (((r + 1) * (j + 7) * 7919) % 101) as f64 - 50.0);
        let count = std::sync::atomic::AtomicU64::new(0);
        let vs = scan(&w, None, &ScanOptions::default(), &|n| {
            count.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(count.into_inner(), 200);
        assert!(vs.iter().all(|v| v.argmaxable().is_some()));
    }
}
