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
            let (a, b, c) = (&outer[a], &outer[b], &outer[c]);
            cols.extend(
                (0..d).map(|r| 0.5 * a[r] as f64 + 0.25 * b[r] as f64 + 0.25 * c[r] as f64),
            );
        }
        let w = DMatrix::from_column_slice(d, k + mix.len(), &cols);
        let vs = scan(&w, None, &keep(), &|_| {});
        for (i, v) in vs.iter().enumerate() {
            match v {
                Verdict::Undecided { reason } => panic!("token {i} undecided: {reason}"),
                _ => verify(&w, None, i, v).unwrap_or_else(|e| panic!("token {i}: {e}")),
            }
        }
        // A planted point equal to an outer token (a = b = c) is a duplicate, still never top.
        for (m, v) in vs.iter().enumerate().skip(k) {
            assert_eq!(v.argmaxable(), Some(false), "planted token {m}");
        }
        for i in 0..k {
            // A vertex wins at x = wᵢ − (mean of the others) when its winning margin there is
            // clear; the scan must agree wherever this independent test finds a win.
            let x: Vec<f64> = (0..d)
                .map(|r| {
                    w[(r, i)]
                        - (0..w.ncols())
                            .filter(|&j| j != i)
                            .map(|j| w[(r, j)])
                            .sum::<f64>()
                            / (w.ncols() - 1) as f64
                })
                .collect();
            let s = |j: usize| (0..d).map(|r| w[(r, j)] * x[r]).sum::<f64>();
            if (0..w.ncols())
                .filter(|&j| j != i)
                .all(|j| s(i) > s(j) + 1e-9)
            {
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
        let w = DMatrix::from_column_slice(
            2,
            5,
            &[1.0f64, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 0.2, 0.1],
        );
        let vs = scan(&w, None, &keep(), &|_| {});
        for (i, v) in vs.iter().enumerate() {
            let one = decide(&w, None, i, &keep());
            assert_eq!(one.argmaxable(), v.argmaxable(), "token {i}");
            assert_eq!(verify(&w, None, i, &one), Ok(()));
        }
    }

    /// Many tokens of very different lengths around an offset centre, so that the scan's
    /// centred trials skip most rivals by the Cauchy–Schwarz bound: every token is decided,
    /// each reported margin is a lower bound on the token's lead over every rival at its witness
    /// (recomputed in f64, within the scores' rounding bound), the witnesses of the tokens
    /// nearest the centre (the ones that skip the most rivals) win exactly, and `decide` (which
    /// skips none) agrees on them.
    #[test]
    fn skipped_rivals_keep_the_margins_true() {
        use transformer_laws::geometry::norm;
        use transformer_laws::tolerance::score_error_bound;
        let (d, v) = (6usize, 500usize);
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cols = Vec::with_capacity(d * v);
        for _ in 0..v {
            let len = 1.0 + uniform();
            let dir: Vec<f64> = (0..d).map(|_| uniform() - 0.5).collect();
            let n = norm(&dir);
            cols.extend(
                dir.iter()
                    .enumerate()
                    .map(|(k, x)| 3.0 + k as f64 + len * x / n),
            );
        }
        let w = DMatrix::from_column_slice(d, v, &cols);
        let vs = scan(&w, None, &keep(), &|_| {});
        let col = |j: usize| w.column(j).iter().copied().collect::<Vec<f64>>();
        for (i, verdict) in vs.iter().enumerate() {
            match verdict {
                Verdict::Argmaxable {
                    witness: Some(x),
                    margin,
                    ..
                } => {
                    assert!(*margin > 0.0, "token {i}: margin {margin}");
                    let dot = |j: usize| col(j).iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
                    let (si, xn) = (dot(i), norm(x));
                    for j in (0..v).filter(|&j| j != i) {
                        let err = score_error_bound(d, xn, norm(&col(i)), 0.0)
                            + score_error_bound(d, xn, norm(&col(j)), 0.0);
                        let gap = si - dot(j);
                        assert!(
                            *margin <= gap + 2.0 * err,
                            "token {i} vs {j}: margin {margin} > lead {gap} (± {err})"
                        );
                    }
                }
                Verdict::Unargmaxable { .. } => {}
                other => panic!("token {i}: {other:?}"),
            }
        }
        let mean: Vec<f64> = (0..d)
            .map(|k| (0..v).map(|j| w[(k, j)]).sum::<f64>() / v as f64)
            .collect();
        let radius = |j: usize| {
            let y: Vec<f64> = col(j).iter().zip(&mean).map(|(a, m)| a - m).collect();
            norm(&y)
        };
        let mut nearest: Vec<usize> = (0..v).collect();
        nearest.sort_by(|&a, &b| radius(a).total_cmp(&radius(b)));
        for &i in &nearest[..20] {
            assert_eq!(verify(&w, None, i, &vs[i]), Ok(()), "token {i}");
            let one = decide(&w, None, i, &keep());
            assert_eq!(one.argmaxable(), vs[i].argmaxable(), "token {i}");
        }
    }

    /// The progress callback counts every token once.
    #[test]
    fn progress_counts_every_token() {
        let w = DMatrix::from_fn(3, 200, |r, j| {
            (((r + 1) * (j + 7) * 7919) % 101) as f64 - 50.0
        });
        let count = std::sync::atomic::AtomicU64::new(0);
        let vs = scan(&w, None, &ScanOptions::default(), &|n| {
            count.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(count.into_inner(), 200);
        assert!(vs.iter().all(|v| v.argmaxable().is_some()));
    }

    /// One token, even the zero vector, is the unique top-1 (there is no rival): decided
    /// alone, not by a combination of tokens that do not exist.
    #[test]
    fn a_single_zero_token_is_argmaxable() {
        let w = DMatrix::from_column_slice(2, 1, &[0.0f64, 0.0]);
        let opts = ScanOptions {
            keep_witnesses: true,
            ..ScanOptions::default()
        };
        let v = decide(&w, None, 0, &opts);
        assert_eq!(v.argmaxable(), Some(true), "{v:?}");
        verify(&w, None, 0, &v).unwrap();
    }

    /// A non-finite weight leaves nothing to certify: verify answers an error, not a panic.
    #[test]
    fn verify_refuses_non_finite_weights() {
        let w = DMatrix::from_column_slice(1, 2, &[f64::NAN, 1.0]);
        let v = decide(&w, None, 1, &ScanOptions::default());
        assert_eq!(v.argmaxable(), None, "{v:?}");
        assert!(verify(&w, None, 1, &v).is_err());
    }
}

/// Section 1–3 of `model report` on small models built in memory.
mod report {
    use nalgebra::DMatrix;
    use serde_json::Value;
    use transformer_laws::strategies::tiny_model;
    use transformer_laws::strategies::{model, sample};
    use transformer_laws::transformer::report::{
        self, ModelFormat, ModelReport, ReportError, ReportOptions, SCHEMA_VERSION, model_report,
    };
    use transformer_laws::transformer::{Model, ModelConfig, NormKind};

    fn rms_model() -> Model<f64> {
        sample(model::<f64>(ModelConfig {
            norm: NormKind::RmsNorm,
            biases: false,
            ..ModelConfig::default()
        }))
    }

    fn run(m: &Model<f64>, tokens: &[usize]) -> ModelReport {
        model_report(m, tokens, &ReportOptions::default(), &|_| {}).expect("valid input")
    }

    fn validator() -> jsonschema::Validator {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/model-report.schema.json"
        ))
        .expect("the schema is committed");
        let s: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::meta::validate(&s).expect("a valid draft 2020-12 schema");
        assert_eq!(s["$defs"]["schema_version"]["const"], SCHEMA_VERSION);
        jsonschema::draft202012::new(&s).expect("the schema compiles")
    }

    fn assert_valid(r: &ModelReport) {
        let doc: Value = serde_json::from_str(&report::json(r)).expect("JSON");
        let errors: Vec<String> = validator()
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }

    /// Every transform applies to a LayerNorm model, and each moves the log-probabilities by
    /// no more than its bound — a bound that is informative (far below the log-probabilities'
    /// own size), not a vacuous one.
    #[test]
    fn every_transform_is_within_its_bound() {
        let r = run(&tiny_model::<f64>(), &[0, 3, 1, 4]);
        let names: Vec<&str> = r.processing.iter().map(|t| t.transform.as_str()).collect();
        assert_eq!(
            names,
            [
                "fold_layernorm",
                "center_writing_weights",
                "center_unembed",
                "fold_value_biases",
                "pipeline"
            ]
        );
        for t in &r.processing {
            assert_eq!(t.refused, None, "{}", t.transform);
            let (change, bound) = (t.max_abs_change.unwrap().0, t.bound.unwrap().0);
            assert_eq!(
                t.within_bound,
                Some(true),
                "{}: {change:e} > {bound:e}",
                t.transform
            );
            assert!(
                change <= bound && bound < 1e-9,
                "{}: {change:e}, {bound:e}",
                t.transform
            );
        }
        assert_valid(&r);
    }

    /// An RMSNorm model: centering the writing weights is refused, with the reason naming the
    /// RMSNorm; everything else (and the pipeline without it) stays within bound.
    #[test]
    fn centering_is_refused_for_rmsnorm_readers() {
        let r = run(&rms_model(), &[1, 2]);
        assert_eq!(r.model.final_norm, "RMSNorm");
        let cww = &r.processing[1];
        assert_eq!(cww.transform, "center_writing_weights");
        let why = cww.refused.as_deref().expect("refused");
        assert!(why.contains("RMSNorm"), "{why}");
        assert_eq!((cww.max_abs_change, cww.within_bound), (None, None));
        for t in r.processing.iter().filter(|t| t.refused.is_none()) {
            assert_eq!(t.within_bound, Some(true), "{}", t.transform);
        }
        assert_valid(&r);
        let text = report::render(&r, ModelFormat::Text);
        assert!(
            text.contains("refused") && text.contains("RMSNorm"),
            "{text}"
        );
    }

    /// The three picks on tokens built around the model's own residual x at position 0:
    /// w₀ = x, w₁ = 4x, w₂ = −x. The logits pick w₁ (4|x|²), the nearest token is w₀ (distance
    /// 0; w₁ is farthest, 3|x| against 2|x| for w₂), and the cosine ties w₀ and w₁ exactly (both 1; 4x is exact in floating point, where
    /// 3x would be rounded and rank second by a hair): the ranks say so.
    #[test]
    fn dot_and_distance_pick_different_tokens() {
        let mut m = tiny_model::<f64>();
        let run = m.run(&[2], 0.0);
        let last = run.resid.last().unwrap();
        let x = m
            .ln_final
            .apply(&last.row(0).iter().copied().collect::<Vec<f64>>());
        let d = x.len();
        m.w_u = DMatrix::from_fn(d, 3, |r, j| [1.0, 4.0, -1.0][j] * x[r]);
        m.b_u = None;
        let r = run_report(&m, &[2]);
        let p = &r.positions[0];
        type Ranks = (Option<usize>, Option<usize>, Option<usize>, Option<usize>);
        let got: Vec<Ranks> = p
            .picks
            .iter()
            .map(|k| (k.token, k.rank_dot, k.rank_euclidean, k.rank_cosine))
            .collect();
        assert_eq!(
            got[..2],
            [
                (Some(1), Some(1), Some(3), Some(1)),
                (Some(0), Some(2), Some(1), Some(1)),
            ]
        );
        // The cosine ties w₀ and w₁ exactly: either is a best token, with the ranks of that token.
        assert!(got[2] == got[0] || got[2] == got[1], "{:?}", got[2]);
        assert!(!p.all_agree);
        let md = report::render(&r, ModelFormat::Markdown);
        assert!(md.contains("| argmax_dot | 1 | 1 | 3 | 1 |"), "{md}");
        // The norms: |x|, 4|x|, |x|.
        assert_eq!(r.token_norms.largest[0].token, 1);
        assert_valid(&r);
    }

    fn run_report(m: &Model<f64>, tokens: &[usize]) -> ModelReport {
        run(m, tokens)
    }

    /// The argmax-dot pick is the top logit of the model's own forward pass, and ranks first
    /// under the dot product; the nearest-Euclidean pick ranks first under the distance.
    #[test]
    fn picks_agree_with_the_forward_pass() {
        let m = tiny_model::<f64>();
        let tokens = [4, 0, 2, 3, 1];
        let r = run(&m, &tokens);
        let logits = m.forward(&tokens);
        for p in &r.positions {
            let row: Vec<f64> = logits.row(p.position).iter().copied().collect();
            let top = (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            assert_eq!(p.picks[0].token, Some(top), "position {}", p.position);
            assert_eq!(p.picks[0].rank_dot, Some(1));
            assert_eq!(p.picks[1].rank_euclidean, Some(1));
        }
    }

    /// A duplicated token vector (and bias) makes both copies unargmaxable; the others of this
    /// random 6 × 8 unembedding are vertices.
    #[test]
    fn the_scan_in_the_report() {
        let mut m = tiny_model::<f64>();
        let col: Vec<f64> = m.w_u.column(0).iter().copied().collect();
        m.w_u.column_mut(5).copy_from_slice(&col);
        let b0 = m.b_u.as_ref().unwrap()[0];
        m.b_u.as_mut().unwrap()[5] = b0;
        let r = run(&m, &[0]);
        let u = r.unargmaxable.as_ref().unwrap();
        assert_eq!(
            (u.argmaxable, u.unargmaxable_count, u.undecided_count),
            (4, 2, 0)
        );
        let tokens: Vec<usize> = u.unargmaxable.iter().map(|t| t.token).collect();
        assert_eq!(tokens, [0, 5]);
        assert_eq!(u.unargmaxable[0].combination[0].exact, "1");
        assert_valid(&r);
    }

    #[test]
    fn bad_input_is_named() {
        let m = tiny_model::<f64>();
        let o = ReportOptions::default();
        assert_eq!(
            model_report(&m, &[0, 9], &o, &|_| {}).unwrap_err(),
            ReportError::TokenOutOfRange {
                position: 1,
                token: 9,
                vocab: 5
            }
        );
        let long = vec![0; 7];
        let e = model_report(&m, &long, &o, &|_| {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            "7 tokens are more than the model's 6 positions"
        );
        let mut bad = m.clone();
        bad.b_u = Some(vec![0.0; 2]);
        let e = model_report(&bad, &[0], &o, &|_| {}).unwrap_err();
        assert!(e.to_string().contains("b_u"), "{e}");
    }

    /// An f32 model reports in f32, with its (larger) bounds still met.
    #[test]
    fn an_f32_model() {
        let m = tiny_model::<f32>();
        let r = model_report(&m, &[1, 2, 3], &ReportOptions::default(), &|_| {}).unwrap();
        assert_eq!(r.dtype, "f32");
        assert!(r.processing.iter().all(|t| t.within_bound == Some(true)));
        assert_valid(&r);
    }
}

/// `model process -o DIR`: the written checkpoint, read back with the safetensors crate.
mod export {
    use safetensors::SafeTensors;
    use transformer_laws::strategies::tiny_model;
    use transformer_laws::strategies::{model, sample};
    use transformer_laws::tolerance::relative;
    use transformer_laws::transformer::export::{Dtype, process_all, tensors, write_processed};
    use transformer_laws::transformer::{Model, ModelConfig, NormKind};

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tl-export-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn read(dir: &std::path::Path) -> (Vec<u8>, serde_json::Value) {
        let bytes = std::fs::read(dir.join("model.safetensors")).expect("written");
        let cfg = std::fs::read_to_string(dir.join("config.json")).expect("written");
        (bytes, serde_json::from_str(&cfg).expect("JSON"))
    }

    fn f64s(st: &SafeTensors, name: &str) -> (Vec<usize>, Vec<f64>) {
        let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.dtype(), safetensors::Dtype::F64, "{name}");
        let v = t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (t.shape().to_vec(), v)
    }

    /// `|Σ v| ≤ 2ε·Σ|v|`: each centered entry is within 1 ulp (≤ ε|v|) of its exact value, whose
    /// sum is 0; the check's own sum is compensated (≤ u|s| + γ²).
    fn zero_mean(name: &str, v: &[f64]) {
        let s = transformer_laws::geometry::dot(v, &vec![1.0; v.len()]);
        let mag: f64 = v.iter().map(|x| x.abs()).sum();
        assert!(
            s.abs() <= relative::<f64>(2) * mag,
            "{name}: sum {s:e} of {v:?}"
        );
    }

    /// Names, shapes and values as the processed model has them (bit for bit in f64), and on
    /// what was written the transforms' postconditions: no norm parameters, every vector
    /// written to the residual stream (rows of W_E, W_pos, each head's W_O, W_out; b_O, b_out)
    /// of zero mean along d_model, every b_V zero, W_U and b_U centered over the vocabulary.
    #[test]
    fn the_written_checkpoint_is_the_processed_model() {
        let m = tiny_model::<f64>();
        let dir = temp("ln");
        let p = write_processed(&m, &dir, Dtype::F64).expect("written");
        let (bytes, cfg) = read(&dir);
        let st = SafeTensors::deserialize(&bytes).expect("a valid safetensors file");
        let expected = tensors(&p.model).unwrap();
        let mut names: Vec<&str> = st.names();
        names.sort();
        let mut want: Vec<&str> = expected.iter().map(|t| t.name.as_str()).collect();
        want.sort();
        assert_eq!(names, want);
        assert!(names.iter().all(|n| !n.contains("ln")), "{names:?}");
        for t in &expected {
            let (shape, values) = f64s(&st, &t.name);
            assert_eq!(shape, t.shape, "{}", t.name);
            assert_eq!(values, t.values, "{}", t.name);
        }
        let (d, heads, dh) = (8, 2, 4);
        assert_eq!(f64s(&st, "blocks.1.attn.W_Q").0, [heads, d, dh]);
        assert_eq!(f64s(&st, "blocks.0.attn.W_O").0, [heads, dh, d]);
        // W_Q[h, i, j] is head h's w_q[(i, j)].
        let (_, wq) = f64s(&st, "blocks.1.attn.W_Q");
        assert_eq!(
            wq[d * dh + 2 * dh + 3],
            p.model.blocks[1].attn.heads[1].w_q[(2, 3)]
        );
        let rows = |name: &str, width: usize| {
            let (_, v) = f64s(&st, name);
            for (r, row) in v.chunks_exact(width).enumerate() {
                zero_mean(&format!("{name} row {r}"), row);
            }
        };
        rows("embed.W_E", d);
        rows("pos_embed.W_pos", d);
        for l in 0..2 {
            rows(&format!("blocks.{l}.attn.W_O"), d);
            rows(&format!("blocks.{l}.attn.b_O"), d);
            rows(&format!("blocks.{l}.mlp.W_out"), d);
            rows(&format!("blocks.{l}.mlp.b_out"), d);
            assert!(
                f64s(&st, &format!("blocks.{l}.attn.b_V"))
                    .1
                    .iter()
                    .all(|&v| v == 0.0)
            );
        }
        rows("unembed.W_U", 6);
        rows("unembed.b_U", 6);
        assert_eq!(cfg["transformer_lens"]["normalization_type"], "LNPre");
        assert_eq!(cfg["processing"]["center_writing_weights"], true);
        assert_eq!(
            (
                cfg["transformer_lens"]["n_layers"].as_u64(),
                cfg["transformer_lens"]["d_head"].as_u64()
            ),
            (Some(2), Some(4))
        );
        assert_eq!(cfg["transformer_lens"]["act_fn"], "gelu");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The postcondition checks can fail: the unprocessed model's W_E is not centered, and it
    /// has LayerNorm parameters to write.
    #[test]
    fn the_checks_see_an_unprocessed_model() {
        let m = tiny_model::<f64>();
        let raw = tensors(&m).unwrap();
        assert!(raw.iter().any(|t| t.name == "ln_final.w"));
        let we = &raw.iter().find(|t| t.name == "embed.W_E").unwrap().values;
        let r = std::panic::catch_unwind(|| {
            for row in we.chunks_exact(8) {
                zero_mean("W_E", row);
            }
        });
        assert!(r.is_err(), "an uncentered W_E passed the zero-mean check");
    }

    /// An RMSNorm model: centering is refused and recorded; f32 output is each value rounded
    /// once.
    #[test]
    fn rmsnorm_and_f32() {
        let m: Model<f64> = sample(model::<f64>(ModelConfig {
            norm: NormKind::RmsNorm,
            biases: false,
            ..ModelConfig::default()
        }));
        let dir = temp("rms");
        let p = write_processed(&m, &dir, Dtype::F32).expect("written");
        assert_eq!(p.applied(), 3);
        let (bytes, cfg) = read(&dir);
        assert_eq!(cfg["transformer_lens"]["normalization_type"], "RMSPre");
        assert_eq!(cfg["processing"]["center_writing_weights"], false);
        assert!(
            cfg["refused"]["center_writing_weights"]
                .as_str()
                .unwrap()
                .contains("RMSNorm")
        );
        assert_eq!(cfg["dtype"], "float32");
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let t = st.tensor("unembed.W_U").unwrap();
        assert_eq!(t.dtype(), safetensors::Dtype::F32);
        let got: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let want = &tensors(&process_all(&m).model).unwrap();
        let want = &want
            .iter()
            .find(|t| t.name == "unembed.W_U")
            .unwrap()
            .values;
        assert_eq!(got, want.iter().map(|&v| v as f32).collect::<Vec<f32>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A directory that cannot be created is named in the error.
    #[test]
    fn an_unwritable_directory_is_named() {
        let file = temp("file");
        std::fs::write(&file, b"not a directory").unwrap();
        let e = write_processed(&tiny_model::<f64>(), &file.join("out"), Dtype::F32).unwrap_err();
        assert!(e.to_string().contains("out"), "{e}");
        std::fs::remove_file(&file).unwrap();
    }
}
