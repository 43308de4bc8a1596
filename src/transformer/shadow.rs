//! A rigorous, tight bound on the rounding error of the logits: the same forward pass evaluated
//! in interval arithmetic of high precision (the "shadow"), whose enclosure of the exact logits
//! is compared with the computed ones.
//!
//! ```text
//! y      exact logits of the stored weights (real arithmetic)
//! ŷ      the logits the model computed in T (f32 or f64)
//! [l, h] an enclosure: l ≤ y ≤ h entrywise, from interval arithmetic with outward rounding
//! |ŷⱼ − yⱼ| ≤ max(hⱼ − ŷⱼ, ŷⱼ − lⱼ)                                       for every logit j
//! ```
//!
//! The bound is `max(h − ŷ, ŷ − l)`, rounded up: it is the attained error plus at most the
//! width `h − l` of the enclosure. Every interval operation rounds its lower end toward −∞
//! and its upper end toward +∞ at [`SHADOW_BITS`] bits, so the width starts at `2⁻¹²⁸`
//! relative and grows only by the conditioning of the network — while the computed logits'
//! error starts at the unit roundoff of `T` (`2⁻²⁴` or `2⁻⁵³`). The width is therefore far
//! below the attained error and the bound is tight (`proofs/forward-error-bound.md`).
//!
//! The cost is that of a forward pass in 128-bit software floating point, about two to three
//! orders of magnitude above the plain forward pass ([`Model::forward`]); it is an opt-in
//! ([`Model::run_with_bound`]). The linear maps run their output columns in parallel (rayon).
//!
//! # Special values
//! A NaN or ±∞ among the weights or inputs a position reads, or an enclosure that is not
//! finite (a norm whose scale interval reaches 0, an `exp` overflowing 128-bit range), gives
//! that position the bound `+∞` (no claim), never a wrong finite one.

use super::{Activation, Attention, Linear, Mlp, Model, Norm, NormKind, Rope, RopeStyle};
use crate::kernels::scalar::Real;
use astro_float::{BigFloat, Consts, Radix, RoundingMode, Sign};
use nalgebra::{DMatrix, Scalar};
use rayon::prelude::*;

/// Precision (bits) of the shadow's interval endpoints.
pub const SHADOW_BITS: usize = 128;

const DN: RoundingMode = RoundingMode::Down;
const UP: RoundingMode = RoundingMode::Up;

/// The logits of a forward pass with, for every position, a rigorous bound on the max-norm of
/// their error: `|ŷⱼ − yⱼ| ≤ bound[p]` for every logit `j` of position `p`, `y` the exact
/// logits of the stored weights.
#[derive(Clone, Debug)]
pub struct Bounded<T: Scalar> {
    /// The logits as [`Model::forward`] computes them (bit for bit), `n × V`.
    pub logits: DMatrix<T>,
    /// Per position: `maxⱼ |ŷⱼ − yⱼ| ≤ bound[p]` (`+∞` when no finite bound could be proven).
    pub bound: Vec<f64>,
}

/// Intervals `[lo, hi]` that contain the exact logits (`n × V`), from [`Model::logit_enclosure`].
#[derive(Clone, Debug)]
pub struct Enclosure {
    cells: Vec<Vec<Iv>>,
}

#[derive(Clone, Debug)]
struct Iv {
    lo: BigFloat,
    hi: BigFloat,
}

/// A real number given as an `f64`, exactly (including subnormals).
fn exact(x: f64, p: usize) -> BigFloat {
    if x != 0.0 && x.is_finite() && x.abs() < f64::MIN_POSITIVE {
        // astro-float converts f64 subnormals to half their value: scale into the normal
        // range first (exact), then back by an exact power of two.
        let two64 = BigFloat::from_f64(2f64.powi(64), p);
        return BigFloat::from_f64(x * 2f64.powi(64), p).div(&two64, p, RoundingMode::None);
    }
    BigFloat::from_f64(x, p)
}

fn is_finite(x: &BigFloat) -> bool {
    !x.is_nan() && !x.is_inf()
}

/// `x` rounded up to an `f64` (`+∞` for NaN or above the `f64` range): the top 64 bits of the
/// mantissa, converted (relative error ≤ 2⁻⁵³), the rest (< 2⁻⁶³ relative) dropped, and the
/// result widened by `4ε`, which covers both and the final scaling's rounding.
pub(crate) fn up_f64(x: &BigFloat) -> f64 {
    let Some((m, _, sign, e, _)) = x.as_raw_parts() else {
        return if x.is_inf_neg() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    };
    if m.iter().all(|&w| w == 0) {
        return 0.0;
    }
    // value = 0.m × 2^e with the mantissa's most significant word last.
    let top = *m.last().expect("a mantissa has a word") as f64;
    let mag = top * 2f64.powi(e - 64);
    if sign == Sign::Neg {
        // −|x| rounded up: shrink the magnitude.
        -(mag * (1.0 - 4.0 * f64::EPSILON))
    } else if mag == 0.0 {
        f64::from_bits(1)
    } else {
        mag * (1.0 + 4.0 * f64::EPSILON) + f64::from_bits(1)
    }
}

/// The arithmetic of the shadow: outward-rounded interval operations at precision `p`.
#[derive(Clone, Copy)]
struct Arith {
    p: usize,
}

/// [`Arith`] with the constants cache the elementary functions need.
struct Shadow {
    a: Arith,
    cc: Consts,
}

impl std::ops::Deref for Shadow {
    type Target = Arith;
    fn deref(&self) -> &Arith {
        &self.a
    }
}

impl Arith {
    fn point(&self, x: f64) -> Iv {
        let v = exact(x, self.p.max(64));
        Iv {
            lo: v.clone(),
            hi: v,
        }
    }

    fn whole() -> Iv {
        Iv {
            lo: BigFloat::from_f64(f64::NEG_INFINITY, 64),
            hi: BigFloat::from_f64(f64::INFINITY, 64),
        }
    }

    fn add(&self, a: &Iv, b: &Iv) -> Iv {
        Iv {
            lo: a.lo.add(&b.lo, self.p, DN),
            hi: a.hi.add(&b.hi, self.p, UP),
        }
    }

    fn sub(&self, a: &Iv, b: &Iv) -> Iv {
        Iv {
            lo: a.lo.sub(&b.hi, self.p, DN),
            hi: a.hi.sub(&b.lo, self.p, UP),
        }
    }

    /// `a·w` for an exact `w`.
    fn scale(&self, a: &Iv, w: &BigFloat) -> Iv {
        if w.is_negative() {
            Iv {
                lo: a.hi.mul(w, self.p, DN),
                hi: a.lo.mul(w, self.p, UP),
            }
        } else {
            Iv {
                lo: a.lo.mul(w, self.p, DN),
                hi: a.hi.mul(w, self.p, UP),
            }
        }
    }

    fn mul(&self, a: &Iv, b: &Iv) -> Iv {
        corners(a, b, |x, y, rm| x.mul(y, self.p, rm))
    }

    fn sqr(&self, a: &Iv) -> Iv {
        let zero = BigFloat::from_f64(0.0, 64);
        let l2 = |x: &BigFloat, rm| x.mul(x, self.p, rm);
        if !a.lo.is_negative() {
            Iv {
                lo: l2(&a.lo, DN),
                hi: l2(&a.hi, UP),
            }
        } else if !a.hi.is_positive() {
            Iv {
                lo: l2(&a.hi, DN),
                hi: l2(&a.lo, UP),
            }
        } else {
            Iv {
                lo: zero,
                hi: max(l2(&a.lo, UP), l2(&a.hi, UP)),
            }
        }
    }

    /// `a / b`; the whole line when `b` contains 0.
    fn div(&self, a: &Iv, b: &Iv) -> Iv {
        if !(b.lo.is_positive() || b.hi.is_negative()) || b.lo.is_zero() || b.hi.is_zero() {
            return Arith::whole();
        }
        corners(a, b, |x, y, rm| x.div(y, self.p, rm))
    }

    fn sqrt(&self, a: &Iv) -> Iv {
        let lo = if a.lo.is_positive() {
            a.lo.sqrt(self.p, DN)
        } else {
            BigFloat::from_f64(0.0, 64)
        };
        Iv {
            lo,
            hi: a.hi.sqrt(self.p, UP),
        }
    }

    /// Widen by `2⁴⁻ᵖ·|x|` outward: astro-float's elementary functions are correctly rounded
    /// in the direction asked (Ziv's loop); the margin keeps the enclosure valid even if one
    /// were off by a few units in the last place.
    fn widen(&self, a: Iv) -> Iv {
        let margin = BigFloat::from_f64(2f64.powi(4 - self.p as i32), 64);
        let lo_m = a.lo.abs().mul(&margin, self.p, UP);
        let hi_m = a.hi.abs().mul(&margin, self.p, UP);
        Iv {
            lo: a.lo.sub(&lo_m, self.p, DN),
            hi: a.hi.add(&hi_m, self.p, UP),
        }
    }
}

impl Shadow {
    fn new(p: usize) -> Shadow {
        Shadow {
            a: Arith { p },
            cc: Consts::new().expect("astro-float constants cache"),
        }
    }

    /// `exp`, increasing.
    fn exp(&mut self, a: &Iv) -> Iv {
        let lo = a.lo.exp(self.p, DN, &mut self.cc);
        let hi = a.hi.exp(self.p, UP, &mut self.cc);
        let zero = BigFloat::from_f64(0.0, 64);
        let r = self.widen(Iv { lo, hi });
        Iv {
            lo: max(r.lo, zero),
            hi: r.hi,
        }
    }

    /// `tanh`, increasing.
    fn tanh(&mut self, a: &Iv) -> Iv {
        let lo = a.lo.tanh(self.p, DN, &mut self.cc);
        let hi = a.hi.tanh(self.p, UP, &mut self.cc);
        self.widen(Iv { lo, hi })
    }

    /// `ln` of a positive exact number.
    fn ln(&mut self, x: f64) -> Iv {
        let v = exact(x, 64);
        let lo = v.ln(self.p, DN, &mut self.cc);
        let hi = v.ln(self.p, UP, &mut self.cc);
        self.widen(Iv { lo, hi })
    }

    fn pi(&mut self) -> Iv {
        let lo = self.cc.pi(self.p, DN);
        let hi = self.cc.pi(self.p, UP);
        self.widen(Iv { lo, hi })
    }

    /// `sin θ` and `cos θ` for θ in `a`: both are 1-Lipschitz, so their values at `a.lo`
    /// widened by the width of `a` enclose them on all of `a`.
    fn sin_cos(&mut self, a: &Iv) -> (Iv, Iv) {
        let w = a.hi.sub(&a.lo, self.p, UP);
        let s = Iv {
            lo: a.lo.sin(self.p, DN, &mut self.cc),
            hi: a.lo.sin(self.p, UP, &mut self.cc),
        };
        let c = Iv {
            lo: a.lo.cos(self.p, DN, &mut self.cc),
            hi: a.lo.cos(self.p, UP, &mut self.cc),
        };
        let grow = |x: Iv, sh: &Arith| {
            let x = sh.widen(x);
            Iv {
                lo: x.lo.sub(&w, sh.p, DN),
                hi: x.hi.add(&w, sh.p, UP),
            }
        };
        let s = grow(s, &self.a);
        let c = grow(c, &self.a);
        (s, c)
    }

    /// `erf(x)` for an exact `x ≥ 0`, enclosed.
    ///
    /// ```text
    /// erf(x) = (2/√π)·e^{−x²}·Σₙ tₙ,   t₀ = x,  tₙ = tₙ₋₁·2x²/(2n+1)      (A&S 7.1.6)
    /// ```
    /// All terms are positive (no cancellation). Once the ratio `2x²/(2n+3)` of the next term
    /// is ≤ ½, every later ratio is too, so the tail after `tₙ` is at most `tₙ`. For
    /// `x² ≥ (p + 16)·ln 2` the series is skipped: `0 < erfc(x) < e^{−x²}/(x√π) ≤ e^{−x²}`
    /// (x ≥ 1), which is below `2⁻ᵖ⁻¹⁶`.
    fn erf_point(&mut self, x: &BigFloat) -> Iv {
        let p = self.p;
        let one = BigFloat::from_f64(1.0, 64);
        if x.is_zero() {
            let z = BigFloat::from_f64(0.0, 64);
            return Iv {
                lo: z.clone(),
                hi: z,
            };
        }
        let x2 = Iv {
            lo: x.mul(x, p, DN),
            hi: x.mul(x, p, UP),
        };
        let neg_x2 = Iv {
            lo: x2.hi.neg(),
            hi: x2.lo.neg(),
        };
        let big = BigFloat::from_f64((p + 16) as f64 * std::f64::consts::LN_2 * 1.001, 64);
        let e = self.exp(&neg_x2);
        if x2.lo.cmp(&big).is_some_and(|c| c >= 0) {
            return Iv {
                lo: one.sub(&e.hi, p, DN),
                hi: one,
            };
        }
        let two_x2 = Iv {
            lo: x2.lo.mul(&BigFloat::from_f64(2.0, 64), p, DN),
            hi: x2.hi.mul(&BigFloat::from_f64(2.0, 64), p, UP),
        };
        let half = BigFloat::from_f64(0.5, 64);
        let tiny = BigFloat::from_f64(2f64.powi(-(p as i32) - 16), 64);
        let (mut t_lo, mut t_hi) = (x.clone(), x.clone());
        let (mut s_lo, mut s_hi) = (x.clone(), x.clone());
        let mut n = 0u64;
        loop {
            n += 1;
            let den = BigFloat::from_u64(2 * n + 1, 64);
            t_lo = t_lo.mul(&two_x2.lo, p, DN).div(&den, p, DN);
            t_hi = t_hi.mul(&two_x2.hi, p, UP).div(&den, p, UP);
            s_lo = s_lo.add(&t_lo, p, DN);
            s_hi = s_hi.add(&t_hi, p, UP);
            let next_ratio = two_x2.hi.div(&BigFloat::from_u64(2 * n + 3, 64), p, UP);
            let small = t_hi.cmp(&s_lo.mul(&tiny, p, DN)).is_some_and(|c| c <= 0);
            if next_ratio.cmp(&half).is_some_and(|c| c <= 0) && small {
                break;
            }
        }
        s_hi = s_hi.add(&t_hi, p, UP); // the tail
        let pi = self.pi();
        let sqrt_pi = self.sqrt(&pi);
        let two = BigFloat::from_f64(2.0, 64);
        let lo = two
            .mul(&e.lo, p, DN)
            .div(&sqrt_pi.hi, p, DN)
            .mul(&s_lo, p, DN);
        let hi = two
            .mul(&e.hi, p, UP)
            .div(&sqrt_pi.lo, p, UP)
            .mul(&s_hi, p, UP);
        Iv {
            lo,
            hi: min(hi, one),
        }
    }

    /// `erf`, increasing and odd.
    fn erf(&mut self, a: &Iv) -> Iv {
        let at = |sh: &mut Shadow, x: &BigFloat| {
            if x.is_negative() {
                let r = sh.erf_point(&x.neg());
                Iv {
                    lo: r.hi.neg(),
                    hi: r.lo.neg(),
                }
            } else {
                sh.erf_point(x)
            }
        };
        if !is_finite(&a.lo) || !is_finite(&a.hi) {
            return Arith::whole();
        }
        let lo = at(self, &a.lo).lo;
        let hi = at(self, &a.hi).hi;
        Iv { lo, hi }
    }

    fn constant(&mut self, decimal: &str) -> Iv {
        let lo = BigFloat::parse(decimal, Radix::Dec, self.p, DN, &mut self.cc);
        let hi = BigFloat::parse(decimal, Radix::Dec, self.p, UP, &mut self.cc);
        self.widen(Iv { lo, hi })
    }

    fn activation(&mut self, act: Activation, v: &Iv) -> Iv {
        let half = BigFloat::from_f64(0.5, 64);
        let one = self.point(1.0);
        match act {
            Activation::Relu => {
                let zero = BigFloat::from_f64(0.0, 64);
                Iv {
                    lo: max(v.lo.clone(), zero.clone()),
                    hi: max(v.hi.clone(), zero),
                }
            }
            Activation::Gelu => {
                // v·(1 + erf(v/√2))/2
                let r2 = self.sqrt(&self.point(2.0));
                let e = self.erf(&self.div(v, &r2));
                self.scale(&self.mul(v, &self.add(&one, &e)), &half)
            }
            Activation::GeluTanh => {
                // v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))/2
                let pi = self.pi();
                let k = self.sqrt(&self.div(&self.point(2.0), &pi));
                let c = self.constant("0.044715");
                let cube = self.mul(&self.sqr(v), v);
                let inner = self.mul(&k, &self.add(v, &self.mul(&c, &cube)));
                let t = self.tanh(&inner);
                self.scale(&self.mul(v, &self.add(&one, &t)), &half)
            }
            Activation::Silu => {
                // v/(1 + e^{−v})
                let neg = Iv {
                    lo: v.hi.neg(),
                    hi: v.lo.neg(),
                };
                let e = self.exp(&neg);
                self.div(v, &self.add(&one, &e))
            }
        }
    }
}

/// The interval of `op` over `a × b` for an operation monotone in each argument on each
/// sign-constant piece: the least of its four corners rounded down, the greatest rounded up.
fn corners(a: &Iv, b: &Iv, op: impl Fn(&BigFloat, &BigFloat, RoundingMode) -> BigFloat) -> Iv {
    let ends = [
        (&a.lo, &b.lo),
        (&a.lo, &b.hi),
        (&a.hi, &b.lo),
        (&a.hi, &b.hi),
    ];
    let mut lo = op(ends[0].0, ends[0].1, DN);
    let mut hi = op(ends[0].0, ends[0].1, UP);
    for (x, y) in &ends[1..] {
        lo = min(lo, op(x, y, DN));
        hi = max(hi, op(x, y, UP));
    }
    Iv { lo, hi }
}

fn min(a: BigFloat, b: BigFloat) -> BigFloat {
    if a.is_nan() || b.is_nan() {
        return BigFloat::nan(None);
    }
    if b.cmp(&a).is_some_and(|c| c < 0) {
        b
    } else {
        a
    }
}

fn max(a: BigFloat, b: BigFloat) -> BigFloat {
    if a.is_nan() || b.is_nan() {
        return BigFloat::nan(None);
    }
    if b.cmp(&a).is_some_and(|c| c > 0) {
        b
    } else {
        a
    }
}

/// `x·W + b` for interval rows `x` and exact weights: each output's lower end summed with
/// every rounding toward −∞, its upper end toward +∞. Columns in parallel.
fn linear<T: Real>(p: usize, x: &[Iv], w: &DMatrix<T>, b: Option<&[T]>) -> Vec<Iv> {
    let sh = Arith { p };
    (0..w.ncols())
        .into_par_iter()
        .map(|j| {
            let mut acc = match b {
                Some(b) => sh.point(b[j].widen()),
                None => sh.point(0.0),
            };
            for (i, xi) in x.iter().enumerate() {
                let wij = w[(i, j)].widen();
                if wij == 0.0 {
                    if wij.is_nan() {
                        return Arith::whole();
                    }
                    continue;
                }
                let t = sh.scale(xi, &exact(wij, 64));
                acc = sh.add(&acc, &t);
            }
            acc
        })
        .collect()
}

fn linear_rows<T: Real>(p: usize, x: &[Vec<Iv>], w: &DMatrix<T>, b: Option<&[T]>) -> Vec<Vec<Iv>> {
    x.iter().map(|r| linear(p, r, w, b)).collect()
}

impl Shadow {
    fn norm<T: Real>(&self, norm: &Norm<T>, x: &[Iv]) -> Vec<Iv> {
        let d = self.point(x.len() as f64);
        let sum = |v: &[Iv]| v.iter().skip(1).fold(v[0].clone(), |s, t| self.add(&s, t));
        let centred: Vec<Iv> = match norm.kind {
            NormKind::LayerNorm => {
                let mu = self.div(&sum(x), &d);
                x.iter().map(|xi| self.sub(xi, &mu)).collect()
            }
            NormKind::RmsNorm => x.to_vec(),
        };
        let squares: Vec<Iv> = centred.iter().map(|c| self.sqr(c)).collect();
        let var = self.div(&sum(&squares), &d);
        let s = self.sqrt(&self.add(&var, &self.point(norm.eps.widen())));
        centred
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut y = self.div(c, &s);
                if let Some(g) = &norm.gamma {
                    y = self.scale(&y, &exact(g[i].widen(), 64));
                }
                if let Some(b) = &norm.beta {
                    y = self.add(&y, &self.point(b[i].widen()));
                }
                y
            })
            .collect()
    }

    fn rope(&mut self, x: &mut [Vec<Iv>], rope: Rope) {
        let w = x.first().map_or(0, Vec::len);
        let ln_base = self.ln(rope.base);
        for (pos, row) in x.iter_mut().enumerate() {
            for i in 0..w / 2 {
                // θ = pos·base^(−2i/w) = pos·exp(−(2i/w)·ln base)
                let k = self.div(&self.point((2 * i) as f64), &self.point(w as f64));
                let f = self.exp(&Iv {
                    lo: self.mul(&k, &ln_base).hi.neg(),
                    hi: self.mul(&k, &ln_base).lo.neg(),
                });
                let theta = self.scale(&f, &exact(pos as f64, 64));
                let (s, c) = self.sin_cos(&theta);
                let (ja, jb) = match rope.style {
                    RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                    RopeStyle::RotateHalf => (i, i + w / 2),
                };
                let (a, b) = (row[ja].clone(), row[jb].clone());
                row[ja] = self.sub(&self.mul(&c, &a), &self.mul(&s, &b));
                row[jb] = self.add(&self.mul(&s, &a), &self.mul(&c, &b));
            }
        }
    }

    fn attention<T: Real>(&mut self, attn: &Attention<T>, h: &[Vec<Iv>]) -> Vec<Vec<Iv>> {
        let n = h.len();
        let mut total: Vec<Vec<Iv>> = (0..n)
            .map(|_| attn.b_o.iter().map(|b| self.point(b.widen())).collect())
            .collect();
        for head in &attn.heads {
            let mut q = linear_rows(self.p, h, &head.w_q, Some(&head.b_q));
            let mut k = linear_rows(self.p, h, &head.w_k, Some(&head.b_k));
            let v = linear_rows(self.p, h, &head.w_v, Some(&head.b_v));
            if let Some(r) = attn.rope {
                self.rope(&mut q, r);
                self.rope(&mut k, r);
            }
            let scale = self.div(
                &self.point(1.0),
                &self.sqrt(&self.point(head.w_q.ncols() as f64)),
            );
            let dv = head.w_v.ncols();
            let mut z = Vec::with_capacity(n);
            for (i, qi) in q.iter().enumerate() {
                // The causal mask: query i sees keys 0..=i.
                let scores: Vec<Iv> = k[..=i]
                    .iter()
                    .map(|kj| {
                        let dot = qi
                            .iter()
                            .zip(kj)
                            .fold(self.point(0.0), |s, (a, b)| self.add(&s, &self.mul(a, b)));
                        self.mul(&dot, &scale)
                    })
                    .collect();
                // softmax(s) = softmax(s − m) for any real m: shift by the largest upper end.
                let m = scores
                    .iter()
                    .map(|s| s.hi.clone())
                    .reduce(max)
                    .expect("a query sees itself");
                let shift = Iv {
                    lo: m.clone(),
                    hi: m,
                };
                let e: Vec<Iv> = scores
                    .iter()
                    .map(|s| self.exp(&self.sub(s, &shift)))
                    .collect();
                let total_e = e.iter().skip(1).fold(e[0].clone(), |s, t| self.add(&s, t));
                let probs: Vec<Iv> = e.iter().map(|ej| self.div(ej, &total_e)).collect();
                let zi: Vec<Iv> = (0..dv)
                    .map(|c| {
                        probs.iter().zip(&v).fold(self.point(0.0), |s, (pj, vj)| {
                            self.add(&s, &self.mul(pj, &vj[c]))
                        })
                    })
                    .collect();
                z.push(zi);
            }
            let out = linear_rows::<T>(self.p, &z, &head.w_o, None);
            for (ti, oi) in total.iter_mut().zip(&out) {
                for (t, o) in ti.iter_mut().zip(oi) {
                    *t = self.add(t, o);
                }
            }
        }
        total
    }

    fn mlp<T: Real>(&mut self, mlp: &Mlp<T>, h: &[Vec<Iv>]) -> Vec<Vec<Iv>> {
        let pre = linear_rows(self.p, h, &mlp.w_in, mlp.b_in.as_deref());
        let post: Vec<Vec<Iv>> = match &mlp.w_gate {
            None => pre
                .iter()
                .map(|r| r.iter().map(|v| self.activation(mlp.act, v)).collect())
                .collect(),
            Some(w_gate) => {
                let g = linear_rows(self.p, h, w_gate, mlp.b_gate.as_deref());
                g.iter()
                    .zip(&pre)
                    .map(|(gr, pr)| {
                        gr.iter()
                            .zip(pr)
                            .map(|(gv, pv)| {
                                let a = self.activation(mlp.act, gv);
                                self.mul(&a, pv)
                            })
                            .collect()
                    })
                    .collect()
            }
        };
        linear_rows(self.p, &post, &mlp.w_out, mlp.b_out.as_deref())
    }
}

impl<T: Real> Model<T> {
    /// Intervals that contain the exact logits of the stored weights (real arithmetic), from
    /// the forward pass evaluated in interval arithmetic with `precision`-bit endpoints rounded
    /// outward (see the [module docs](super::shadow)).
    ///
    /// # Panics
    /// As [`Model::forward`].
    pub fn logit_enclosure(&self, tokens: &[usize], precision: usize) -> Enclosure {
        let (embed, pos) = self.embed(tokens);
        let mut sh = Shadow::new(precision);
        let n = tokens.len();
        let d = self.d_model();
        let mut x: Vec<Vec<Iv>> = (0..n)
            .map(|i| {
                (0..d)
                    .map(|j| {
                        let e = sh.point(embed[(i, j)].widen());
                        match &pos {
                            Some(p) => sh.add(&e, &sh.point(p[(i, j)].widen())),
                            None => e,
                        }
                    })
                    .collect()
            })
            .collect();
        for block in &self.blocks {
            let h: Vec<Vec<Iv>> = x.iter().map(|r| sh.norm(&block.ln1, r)).collect();
            let a = sh.attention(&block.attn, &h);
            x = add_rows(&sh.a, &x, &a);
            let h2: Vec<Vec<Iv>> = x.iter().map(|r| sh.norm(&block.ln2, r)).collect();
            let m = sh.mlp(&block.mlp, &h2);
            x = add_rows(&sh.a, &x, &m);
        }
        let hf: Vec<Vec<Iv>> = x.iter().map(|r| sh.norm(&self.ln_final, r)).collect();
        Enclosure {
            cells: linear_rows(precision, &hf, &self.w_u, self.b_u.as_deref()),
        }
    }

    /// The logits ([`Model::forward`], bit for bit) and a rigorous bound on their error at
    /// every position, tight to within the width of a 128-bit shadow evaluation
    /// ([`Model::logit_enclosure`]; the derivation is `proofs/forward-error-bound.md`).
    ///
    /// Costs a forward pass in 128-bit interval arithmetic besides the plain one.
    ///
    /// # Panics
    /// As [`Model::forward`].
    ///
    /// # Examples
    /// ```
    /// use transformer_laws::strategies::tiny_model;
    /// let model = tiny_model::<f32>();
    /// let run = model.run_with_bound(&[0, 1]);
    /// assert!(run.bound.iter().all(|&b| b > 0.0 && b < 1e-5));
    /// ```
    pub fn run_with_bound(&self, tokens: &[usize]) -> Bounded<T> {
        self.run_with_bound_using(tokens, Linear::Compensated)
    }

    /// [`Model::run_with_bound`] for the logits of [`Model::forward_with`] `kind`: the
    /// enclosure of the exact logits does not depend on how the logits it bounds were computed.
    ///
    /// # Panics
    /// As [`Model::forward`].
    pub fn run_with_bound_using(&self, tokens: &[usize], kind: Linear) -> Bounded<T> {
        let logits = self.forward_with(tokens, kind);
        let enc = self.logit_enclosure(tokens, SHADOW_BITS);
        let bound = (0..logits.nrows())
            .map(|i| {
                let row: Vec<f64> = logits.row(i).iter().map(|v| v.widen()).collect();
                enc.error_bound(i, &row)
            })
            .collect();
        Bounded { logits, bound }
    }
}

fn add_rows(sh: &Arith, x: &[Vec<Iv>], y: &[Vec<Iv>]) -> Vec<Vec<Iv>> {
    x.iter()
        .zip(y)
        .map(|(a, b)| a.iter().zip(b).map(|(u, v)| sh.add(u, v)).collect())
        .collect()
}

impl Enclosure {
    /// Positions (rows).
    pub fn positions(&self) -> usize {
        self.cells.len()
    }

    /// Whether `lo ≤ row[j] ≤ hi` for every logit `j` of position `i`.
    pub fn contains(&self, i: usize, row: &[f64]) -> bool {
        self.cells[i].iter().zip(row).all(|(c, &x)| {
            let v = exact(x, 64);
            c.lo.cmp(&v).is_some_and(|o| o <= 0) && c.hi.cmp(&v).is_some_and(|o| o >= 0)
        })
    }

    /// `maxⱼ max(hiⱼ − rowⱼ, rowⱼ − loⱼ)`, rounded up: a bound on `maxⱼ |rowⱼ − yⱼ|` for
    /// the exact logits `y`. `+∞` if anything is not finite.
    pub fn error_bound(&self, i: usize, row: &[f64]) -> f64 {
        let mut worst = 0.0f64;
        for (c, &x) in self.cells[i].iter().zip(row) {
            if !x.is_finite() || !is_finite(&c.lo) || !is_finite(&c.hi) {
                return f64::INFINITY;
            }
            let v = exact(x, 64);
            let a = up_f64(&c.hi.sub(&v, SHADOW_BITS.max(64), UP));
            let b = up_f64(&v.sub(&c.lo, SHADOW_BITS.max(64), UP));
            worst = worst.max(a).max(b);
        }
        worst
    }

    /// `maxⱼ dist(rowⱼ, [loⱼ, hiⱼ])`, rounded down: a lower bound on `maxⱼ |rowⱼ − yⱼ|` (the
    /// error is at least the distance from the interval that holds `yⱼ`).
    pub fn error_lower_bound(&self, i: usize, row: &[f64]) -> f64 {
        let p = SHADOW_BITS.max(64);
        let down = |x: BigFloat| -up_f64(&x.neg());
        self.cells[i]
            .iter()
            .zip(row)
            .map(|(c, &x)| {
                let v = exact(x, 64);
                // Below the interval: lo − x > 0; above it: x − hi > 0.
                down(c.lo.sub(&v, p, DN)).max(down(v.sub(&c.hi, p, DN)))
            })
            .fold(0.0, f64::max)
    }

    /// `maxⱼ (hiⱼ − loⱼ)` at position `i`, rounded up: how far the enclosure is from a point.
    pub fn width(&self, i: usize) -> f64 {
        self.cells[i]
            .iter()
            .map(|c| up_f64(&c.hi.sub(&c.lo, SHADOW_BITS.max(64), UP)))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(a: &BigFloat, b: &BigFloat) -> bool {
        a.cmp(b).is_some_and(|o| o <= 0)
    }

    /// The shadow rests on astro-float's `Down` and `Up` rounding toward −∞ and +∞ (not to
    /// nearest): 1/3 rounded each way brackets 1/3, and the two differ by one unit in the last
    /// place.
    #[test]
    fn astro_float_rounds_in_the_direction_asked() {
        let p = SHADOW_BITS;
        let (one, three) = (BigFloat::from_f64(1.0, p), BigFloat::from_f64(3.0, p));
        for x in [one.clone(), one.neg()] {
            let lo = x.div(&three, p, DN);
            let hi = x.div(&three, p, UP);
            assert!(le(&lo.mul(&three, 4 * p, RoundingMode::None), &x));
            assert!(le(&x, &hi.mul(&three, 4 * p, RoundingMode::None)));
            let gap = hi.sub(&lo, 4 * p, RoundingMode::None);
            let ulp = BigFloat::from_f64(2f64.powi(-(p as i32) - 1), p);
            assert!(gap.is_positive() && le(&gap, &ulp), "{gap}");
        }
    }

    /// `up_f64` is an upper bound within a few ulps, for either sign and at the ends of the
    /// f64 range.
    #[test]
    fn up_f64_rounds_up() {
        let p = SHADOW_BITS;
        let third = BigFloat::from_f64(1.0, p).div(&BigFloat::from_f64(3.0, p), p, UP);
        for x in [
            third.clone(),
            third.neg(),
            BigFloat::from_f64(1.0, p),
            BigFloat::from_f64(-2.5, p),
            exact(f64::from_bits(1), p),
            BigFloat::from_f64(1e300, p).mul(&BigFloat::from_f64(1e10, p), p, UP),
        ] {
            let y = up_f64(&x);
            if y.is_infinite() {
                assert!(y > 0.0 && x.is_positive());
                continue;
            }
            assert!(le(&x, &exact(y, p)), "{x} > {y:e}");
            let slack = (y - x.to_string().parse::<f64>().unwrap()).abs();
            assert!(
                slack <= 8.0 * f64::EPSILON * y.abs() + 2.0 * f64::from_bits(1),
                "{x}: {y:e}"
            );
        }
        assert_eq!(up_f64(&BigFloat::from_f64(0.0, p)), 0.0);
        assert_eq!(up_f64(&BigFloat::nan(None)), f64::INFINITY);
    }

    /// erf's enclosure holds tabulated values (erf(1), erf(0.5) to 40 digits, Abramowitz &
    /// mpmath at 50 digits), is a few ulps of 128 bits wide over the series' range, agrees with
    /// libm's erf, and switches to the `erfc` tail above √((p + 16)·ln 2).
    #[test]
    fn erf_enclosure() {
        let mut sh = Shadow::new(SHADOW_BITS);
        let p = 256;
        let table = [
            (1.0, "0.8427007929497148693412206350826092592961"),
            (0.5, "0.5204998778130465376827466538919645287365"),
        ];
        for (x, want) in table {
            let w = BigFloat::parse(want, Radix::Dec, p, RoundingMode::ToEven, &mut sh.cc);
            let e = sh.erf(&sh.point(x));
            // The decimal is itself within 10⁻⁴⁰ of erf(x).
            let tol = BigFloat::from_f64(1e-40, 64);
            assert!(
                le(&e.lo.sub(&tol, p, DN), &w) && le(&w, &e.hi.add(&tol, p, UP)),
                "{x}"
            );
        }
        for x in [-3.0, -0.1, 1e-3, 0.7, 2.0, 5.0, 9.0, 10.0, 11.0, 30.0] {
            let e = sh.erf(&sh.point(x));
            let (lo, hi) = (-up_f64(&e.lo.neg()), up_f64(&e.hi));
            let libm = libm::erf(x);
            assert!(
                lo <= libm + 2e-16 && libm - 2e-16 <= hi,
                "{x}: [{lo}, {hi}] vs {libm}"
            );
            let width = up_f64(&e.hi.sub(&e.lo, SHADOW_BITS, UP));
            assert!(width <= 2f64.powi(-110), "{x}: width {width:e}");
        }
    }
}
