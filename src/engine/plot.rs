//! Figures of counterexamples and witnesses (`transformer-laws plot ID`), drawn with plotters
//! as SVG. Every figure is computed: the configurations come from the claims' own searches (or,
//! for illustrations of readings that hold, from the fixed examples named in the captions), and
//! the regions are computed point by point with this crate's kernels.

use crate::engine::claims::{self, Case, Check, Quantifier, no_cases, with_tokens};
use crate::engine::search::{SearchConfig, Verdict, run_check};
use crate::kernels::norms::layer_norm;
use crate::kernels::softmax::softmax;
use crate::kernels::unembed::{argmax_dot, nearest_euclidean};
use nalgebra::DMatrix;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Ids that have a figure.
pub const FIGURES: &[&str] = &[
    "argmax-dot-vs-nearest",
    "argmax-dot-scale-invariance",
    "softmax-temperature",
    "layernorm-sees-direction",
    "hull-interior-never-top",
];

type Res<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing failed: {e:?}")
}

/// The legend box of every figure, at `position`.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Res<()> {
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(position)
        .draw()
        .map_err(err)
}

/// ColorBrewer's "Paired" scheme: light fills (`PALETTE`) and the dark strokes of the same hues.
const PALETTE: [RGBColor; 6] = hex([0xa6cee3, 0xb2df8a, 0xfb9a99, 0xfdbf6f, 0xcab2d6, 0xffff99]);
const DARK: [RGBColor; 6] = hex([0x1f78b4, 0x33a02c, 0xe31a1c, 0xff7f00, 0x6a3d9a, 0xb15928]);

const fn hex(c: [u32; 6]) -> [RGBColor; 6] {
    let mut out = [RGBColor(0, 0, 0); 6];
    let mut i = 0;
    while i < 6 {
        out[i] = RGBColor((c[i] >> 16) as u8, (c[i] >> 8) as u8, c[i] as u8);
        i += 1;
    }
    out
}

/// Draw the figure for `id` as an SVG document.
pub fn figure(id: &str, cfg: SearchConfig) -> Res<String> {
    match id {
        "argmax-dot-vs-nearest" => dot_vs_nearest(cfg),
        "argmax-dot-scale-invariance" => scale_path(cfg),
        "softmax-temperature" => temperature(),
        "layernorm-sees-direction" => layernorm_direction(cfg),
        "hull-interior-never-top" => hull(),
        _ => Err(format!(
            "no figure for '{id}' (figures exist for: {})",
            FIGURES.join(", ")
        )),
    }
}

/// Search a 2-D witness with `tokens` tokens for a registered existential reading.
/// The search is the reading's own test, restricted to two dimensions and three tokens.
fn witness_2d(
    id: &str,
    key: &str,
    cfg: SearchConfig,
    strategy: fn() -> proptest::strategy::BoxedStrategy<Case>,
) -> Res<Case> {
    let claim = claims::find(id).ok_or("no such claim")?;
    let reading = claim
        .readings
        .iter()
        .find(|r| r.key == key)
        .ok_or("no such reading")?;
    let test = reading.judgements[0].check.test;
    thread_local! { static TEST: std::cell::Cell<Option<claims::CaseTest>> = const { std::cell::Cell::new(None) }; }
    TEST.with(|t| t.set(Some(test)));
    fn in_2d(c: &Case) -> claims::CaseOutcome {
        if c.dim() != 2 || c.tokens().len() < 3 {
            return claims::CaseOutcome::Skip;
        }
        TEST.with(|t| (t.get().unwrap())(c))
    }
    let check = Check {
        quantifier: Quantifier::Exists,
        strategy,
        enumerate: no_cases,
        test: in_2d,
    };
    match run_check(&check, cfg) {
        Verdict::Witnessed(f) => Ok(f.case),
        _ => Err(format!("no 2-D witness for {id} ({key}) found")),
    }
}

fn matrix(c: &Case) -> DMatrix<f64> {
    let t = c.tokens();
    DMatrix::from_fn(2, t.len(), |r, k| t[k][r])
}

/// A chart of the square [−r, r]², captioned, without a mesh, filled with the region map of
/// `label` (the cells of a ranking).
fn cell_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    caption: impl AsRef<str>,
    font_size: u32,
    r: f64,
    label: &dyn Fn(f64, f64) -> Option<usize>,
) -> Res<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", font_size))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(36)
        .build_cartesian_2d(-r..r, -r..r)
        .map_err(err)?;
    chart.configure_mesh().disable_mesh().draw().map_err(err)?;
    regions(&mut chart, r, label)?;
    Ok(chart)
}

/// Fill a chart with the region map of `label(x, y)`: horizontal runs of one colour.
fn regions<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    r: f64,
    label: &dyn Fn(f64, f64) -> Option<usize>,
) -> Res<()> {
    let n = 160;
    let step = 2.0 * r / n as f64;
    let mut rects = Vec::new();
    for iy in 0..n {
        let y = -r + (iy as f64 + 0.5) * step;
        let mut start = 0;
        let mut cur = label(-r + 0.5 * step, y);
        for ix in 1..=n {
            let next = if ix < n {
                label(-r + (ix as f64 + 0.5) * step, y)
            } else {
                None
            };
            if ix == n || next != cur {
                if let Some(k) = cur {
                    rects.push(Rectangle::new(
                        [
                            (-r + start as f64 * step, y - step / 2.0),
                            (-r + ix as f64 * step, y + step / 2.0),
                        ],
                        PALETTE[k % 6].filled(),
                    ));
                }
                start = ix;
                cur = next;
            }
        }
    }
    chart.draw_series(rects).map_err(err)?;
    Ok(())
}

fn tokens_and_query<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    w: &DMatrix<f64>,
    x: Option<(f64, f64)>,
    answer: Option<usize>,
) -> Res<()> {
    for k in 0..w.ncols() {
        let p = (w[(0, k)], w[(1, k)]);
        chart
            .draw_series(std::iter::once(Circle::new(p, 6, DARK[k % 6].filled())))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("w{k} = ({}, {})", p.0, p.1),
                (p.0 + 0.12, p.1 + 0.12),
                ("sans-serif", 14),
            )))
            .map_err(err)?;
    }
    if let Some(q) = x {
        chart
            .draw_series(std::iter::once(TriangleMarker::new(q, 9, BLACK.filled())))
            .map_err(err)?;
        let text = match answer {
            Some(a) => format!("x = ({}, {}) → w{a}", q.0, q.1),
            None => format!("x = ({}, {})", q.0, q.1),
        };
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (q.0 + 0.12, q.1 - 0.35),
                ("sans-serif", 15).into_font().style(FontStyle::Bold),
            )))
            .map_err(err)?;
    }
    Ok(())
}

fn extent(w: &DMatrix<f64>, x: &[f64]) -> f64 {
    w.iter().chain(x).fold(1.0f64, |m, v| m.max(v.abs())) + 1.5
}

/// The answer of one rule at a point: nearest token or largest logit.
fn rule(w: &DMatrix<f64>, nearest: bool, p: &[f64]) -> Option<usize> {
    if nearest {
        nearest_euclidean(w, p)
    } else {
        argmax_dot(w, p)
    }
}

/// Two side-by-side panels of the plane coloured by a rule each (`true`: nearest token,
/// `false`: largest logit), with the tokens, an optional outline (a closed polygon), and, if
/// given, the query and its answer.
fn two_panels(
    title: &str,
    w: &DMatrix<f64>,
    r: f64,
    panels: [(&str, bool); 2],
    outline: &[(f64, f64)],
    x: Option<&[f64]>,
) -> Res<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1100, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, ("sans-serif", 17)).map_err(err)?;
        let (left, right) = root.split_horizontally(550);
        for (panel, (caption, nearest)) in [&left, &right].into_iter().zip(panels) {
            let mut chart = cell_chart(panel, caption, 16, r, &|a, b| rule(w, nearest, &[a, b]))?;
            if let Some(&first) = outline.first() {
                let closed = outline.iter().copied().chain(std::iter::once(first));
                chart
                    .draw_series(LineSeries::new(closed, BLACK.mix(0.5)))
                    .map_err(err)?;
            }
            tokens_and_query(
                &mut chart,
                w,
                x.map(|q| (q[0], q[1])),
                x.and_then(|q| rule(w, nearest, q)),
            )?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn dot_vs_nearest(cfg: SearchConfig) -> Res<String> {
    let c = witness_2d("argmax-dot-vs-nearest", "a", cfg, || {
        with_tokens(&["x"], 3..=3, 3, 2..=2, -3..=3, vec![])
    })?;
    let w = matrix(&c);
    let x = claims::f(c.v("x"));
    let r = extent(&w, &x);
    let title = format!("argmax-dot-vs-nearest: one query, two answers ({c})");
    two_panels(
        &title,
        &w,
        r,
        [
            ("nearest token |x − w| (Voronoi cells)", true),
            ("largest logit x·w (cones)", false),
        ],
        &[],
        Some(&x),
    )
}

fn scale_path(cfg: SearchConfig) -> Res<String> {
    let c = witness_2d("argmax-dot-scale-invariance", "b", cfg, || {
        with_tokens(
            &["x"],
            3..=3,
            3,
            2..=2,
            -3..=3,
            vec![("α", claims::int(1..=4))],
        )
    })?;
    let w = matrix(&c);
    let x = claims::f(c.v("x"));
    let tmax = 3.0;
    let r = extent(&w, &x.iter().map(|v| v * tmax).collect::<Vec<_>>());
    // Where the nearest token of t·x changes, t ∈ (0, tmax].
    let mut changes = Vec::new();
    let n = 3000;
    let mut prev = nearest_euclidean(&w, &[x[0] * 1e-3, x[1] * 1e-3]);
    for i in 1..=n {
        let t = tmax * i as f64 / n as f64;
        let cur = nearest_euclidean(&w, &[x[0] * t, x[1] * t]);
        if cur != prev {
            changes.push((t, cur));
            prev = cur;
        }
    }
    let top = argmax_dot(&w, &x);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (700, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let title = format!(
            "argmax-dot-scale-invariance: the nearest token to t·x changes with t; argmax x·w = w{} for every t > 0",
            top.unwrap_or(0)
        );
        let root = root.titled(&title, ("sans-serif", 15)).map_err(err)?;
        let caption = format!("{c}; Voronoi cells, the path t·x for 0 < t ≤ {tmax}");
        let mut chart = cell_chart(&root, caption, 14, r, &|a, b| {
            nearest_euclidean(&w, &[a, b])
        })?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (x[0] * tmax, x[1] * tmax)],
                BLACK.stroke_width(2),
            ))
            .map_err(err)?;
        for (i, (t, k)) in changes.iter().enumerate() {
            let p = (x[0] * t, x[1] * t);
            chart
                .draw_series(std::iter::once(Cross::new(p, 7, BLACK.stroke_width(2))))
                .map_err(err)?;
            let at = (p.0 + 0.1, p.1 - 1.0 - 0.45 * i as f64);
            chart
                .draw_series(LineSeries::new([p, at], BLACK.mix(0.5)))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("t ≈ {t:.3}: nearest(t·x) → w{}", k.unwrap_or(0)),
                    at,
                    ("sans-serif", 13),
                )))
                .map_err(err)?;
        }
        tokens_and_query(
            &mut chart,
            &w,
            Some((x[0], x[1])),
            nearest_euclidean(&w, &x),
        )?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn temperature() -> Res<String> {
    // An illustration of readings (a)–(c): z = [0, 1, 3].
    let z = [0.0, 1.0, 3.0];
    let n = 400;
    let amax = 4.0;
    let curves: Vec<Vec<(f64, f64)>> = (0..z.len())
        .map(|i| {
            (0..=n)
                .map(|k| {
                    let a = amax * k as f64 / n as f64;
                    let p = softmax(&z.iter().map(|v| v * a).collect::<Vec<_>>());
                    (a, p[i])
                })
                .collect()
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("softmax-temperature: softmax(α·z) for z = [0, 1, 3] — the argmax never changes, the distribution does", ("sans-serif", 15))
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..amax, 0.0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("α (inverse temperature)")
            .y_desc("probability")
            .draw()
            .map_err(err)?;
        for (i, c) in curves.into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(c, DARK[i].stroke_width(2)))
                .map_err(err)?
                .label(format!("p{i} (z{i} = {})", z[i]))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], DARK[i].stroke_width(2))
                });
        }
        chart
            .draw_series(LineSeries::new(
                [(0.0, 1.0 / 3.0), (amax, 1.0 / 3.0)],
                BLACK.mix(0.4),
            ))
            .map_err(err)?
            .label("1/n: the α → 0 limit")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.mix(0.4)));
        legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn layernorm_direction(cfg: SearchConfig) -> Res<String> {
    let claim = claims::find("layernorm-sees-direction").ok_or("no such claim")?;
    let reading = claim
        .readings
        .iter()
        .find(|r| r.key == "c2")
        .ok_or("no reading c2")?;
    let c = match crate::engine::search::judge(&reading.judgements[0], cfg) {
        Verdict::Witnessed(f) => f.case,
        _ => return Err("no witness for layernorm-sees-direction (c2)".into()),
    };
    let (x, y) = (claims::f(c.v("x")), claims::f(c.v("x'")));
    if x.len() != 2 {
        return Err(format!("the witness {c} is not 2-D"));
    }
    let ln = layer_norm(&x, 0.0, None, None);
    let center = |v: &[f64]| {
        let m = (v[0] + v[1]) / 2.0;
        (v[0] - m, v[1] - m)
    };
    let r = x.iter().chain(&y).fold(1.5f64, |m, v| m.max(v.abs())) + 1.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("layernorm-sees-direction: {c} point different ways, LN gives ({}, {}) for both", ln[0], ln[1]), ("sans-serif", 14))
            .margin(14)
            .x_label_area_size(30)
            .y_label_area_size(36)
            .build_cartesian_2d(-r..r, -r..r)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("coordinate 1")
            .y_desc("coordinate 2")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new([(-r, r), (r, -r)], BLACK.mix(0.35)))
            .map_err(err)?
            .label("x₁ + x₂ = 0: where LN's output lives (⊥ 1)")
            .legend(|(a, b)| PathElement::new([(a, b), (a + 18, b)], BLACK.mix(0.35)));
        for (v, name, col) in [(&x, "x", DARK[0]), (&y, "x'", DARK[2])] {
            chart
                .draw_series(LineSeries::new(
                    [(0.0, 0.0), (v[0], v[1])],
                    col.stroke_width(3),
                ))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new((v[0], v[1]), 5, col.filled())))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{name} = ({}, {})", v[0], v[1]),
                    (v[0] + 0.1, v[1] + 0.15),
                    ("sans-serif", 14),
                )))
                .map_err(err)?;
            let p = center(v);
            chart
                .draw_series(LineSeries::new(
                    [(v[0], v[1]), p],
                    col.mix(0.6).stroke_width(1),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (ln[0], ln[1]),
                10,
                BLACK.filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("LN(x) = LN(x') = ({}, {})", ln[0], ln[1]),
                (ln[0] + 0.15, ln[1] - 0.3),
                ("sans-serif", 15),
            )))
            .map_err(err)?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn hull() -> Res<String> {
    // An illustration of reading (a): three outer tokens and w3 = (w0 + w1 + w2)/3 inside them.
    let outer = [(3.0, 0.0), (-3.0, 3.0), (0.0, -3.0)];
    let inner = (
        (outer[0].0 + outer[1].0 + outer[2].0) / 3.0,
        (outer[0].1 + outer[1].1 + outer[2].1) / 3.0,
    );
    let pts = [outer[0], outer[1], outer[2], inner];
    let w = DMatrix::from_fn(2, 4, |r, k| if r == 0 { pts[k].0 } else { pts[k].1 });
    let title = "hull-interior-never-top: w3 (inside the hull) owns no region of argmax x·w, yet a Voronoi cell";
    two_panels(
        title,
        &w,
        4.5,
        [
            ("largest logit x·w: w3 never wins", false),
            ("nearest token: w3 is its own nearest", true),
        ],
        &outer,
        None,
    )
}
