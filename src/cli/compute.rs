//! The JSON Lines interface behind `transformer-laws compute OP [--dtype f32|f64]`.
//!
//! One JSON object per input line, one JSON object per output line, in order, so that code in
//! any language can check its numbers against the reference:
//!
//! | op | input | output |
//! |---|---|---|
//! | `softmax`, `log_softmax` | `{"x": [...]}` | `{"y": [...]}` |
//! | `logsumexp` | `{"x": [...]}` | `{"y": number}` |
//! | `layer_norm` | `{"x", "eps"?, "gamma"?, "beta"?}` | `{"y": [...]}` |
//! | `rms_norm` | `{"x", "eps"?, "gamma"?}` | `{"y": [...]}` |
//! | `cross_entropy` | `{"logits", "target"}` | `{"loss": number, "grad": [...]}` |
//! | `argmax_dot`, `nearest_euclidean`, `nearest_cosine` | `{"x", "tokens": [[...], ...]}` | `{"index": n or null}` |
//!
//! * Numbers are read as decimal text and rounded once to the dtype (no detour through `f64`
//!   for `f32`); a finite number too large for the dtype is an error, not ∞.
//! * Non-finite numbers are the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, in and out.
//! * Output numbers are the shortest decimal that parses back to the same value of the dtype.
//! * Default ε follows `torch.nn.functional`: `1e-5` for `layer_norm`, the dtype's machine
//!   epsilon for `rms_norm`.
//! * `index` is `null` when no token can be ranked (a NaN score, or for `nearest_cosine` a zero
//!   query or no non-zero token). Ties go to the lowest index.
//! * A line that cannot be computed answers `{"error": "line N: ..."}`; the other lines are
//!   still answered. Unknown fields are errors (a misspelt `"epsilon"` is not silently ignored).

use crate::kernels::scalar::Real;
use crate::kernels::{loss, norms, softmax, unembed};
use nalgebra::DMatrix;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::io::{self, BufRead, Write};
use std::marker::PhantomData;

/// An operation of `compute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[cfg_attr(feature = "cli", value(rename_all = "snake_case"))]
pub enum Op {
    /// `{"x"}` → `{"y": softmax(x)}`
    Softmax,
    /// `{"x"}` → `{"y": log_softmax(x)}`
    LogSoftmax,
    /// `{"x"}` → `{"y": logsumexp(x)}`
    Logsumexp,
    /// `{"x", "eps"?, "gamma"?, "beta"?}` → `{"y"}`
    LayerNorm,
    /// `{"x", "eps"?, "gamma"?}` → `{"y"}`
    RmsNorm,
    /// `{"logits", "target"}` → `{"loss", "grad"}`
    CrossEntropy,
    /// `{"x", "tokens"}` → `{"index"}`
    ArgmaxDot,
    /// `{"x", "tokens"}` → `{"index"}`
    NearestEuclidean,
    /// `{"x", "tokens"}` → `{"index"}`
    NearestCosine,
}

/// The floating-point type `compute` works in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Dtype {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    #[default]
    F64,
}

/// What a run of `compute` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: usize,
    /// Lines answered with `{"error": ...}`.
    pub failed: usize,
}

/// One number of the dtype, read from JSON text or from `"NaN"`, `"Infinity"`, `"-Infinity"`.
struct Num<T>(T);

impl<'de, T: Real> Deserialize<'de> for Num<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumVisitor(PhantomData))
    }
}

struct NumVisitor<T>(PhantomData<T>);

/// The input text an error message quotes: whole when short, else its first 24 characters and
/// its length (an error line stays one short line even for a 100 MB number).
fn excerpt(s: &str) -> String {
    const KEEP: usize = 24;
    match s.char_indices().nth(KEEP) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}… ({} characters)", &s[..cut], s.chars().count()),
    }
}

fn parse_decimal<T: Real, E: de::Error>(s: &str) -> Result<T, E> {
    let v: T = s
        .parse()
        .map_err(|_| E::custom(format!("{} is not a number", excerpt(s))))?;
    if v.is_infinite() {
        return Err(E::custom(format!(
            "{} is out of range for {} (largest finite value {:e})",
            excerpt(s),
            T::NAME,
            T::max_value()
        )));
    }
    Ok(v)
}

impl<'de, T: Real> Visitor<'de> for NumVisitor<T> {
    type Value = Num<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a number or one of "NaN", "Infinity", "-Infinity""#)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Num<T>, E> {
        match s {
            "NaN" => Ok(Num(T::nan())),
            "Infinity" => Ok(Num(T::infinity())),
            "-Infinity" => Ok(Num(T::neg_infinity())),
            _ => Err(E::custom(format!(
                r#"the string "{}" is not a number (use a JSON number, "NaN", "Infinity" or "-Infinity")"#,
                excerpt(s)
            ))),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Num<T>, A::Error> {
        // With serde_json's `arbitrary_precision`, a number arrives as its decimal text.
        let n = serde_json::Number::deserialize(de::value::MapAccessDeserializer::new(map))?;
        parse_decimal(n.as_str()).map(Num)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num<T>, E> {
        parse_decimal(&v.to_string()).map(Num)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num<T>, E> {
        parse_decimal(&v.to_string()).map(Num)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num<T>, E> {
        parse_decimal(&v.to_string()).map(Num)
    }
}

/// A vector of numbers.
struct Nums<T>(Vec<T>);

impl<'de, T: Real> Deserialize<'de> for Nums<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<Num<T>> = Vec::deserialize(d)?;
        Ok(Nums(v.into_iter().map(|n| n.0).collect()))
    }
}

/// Tokens as a list of equal-length rows, stored straight into a `d × V` matrix (one column each).
struct Tokens<T: Real>(DMatrix<T>);

impl<'de, T: Real> Deserialize<'de> for Tokens<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Real> Visitor<'de> for V<T> {
            type Value = Tokens<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of token vectors")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tokens<T>, A::Error> {
                let mut flat: Vec<T> = Vec::new();
                let mut dim = None;
                let mut count = 0usize;
                while let Some(Nums(row)) = seq.next_element::<Nums<T>>()? {
                    match dim {
                        None => dim = Some(row.len()),
                        Some(d) if d != row.len() => {
                            return Err(de::Error::custom(format!(
                                "tokens[{count}] has {} entries but tokens[0] has {d}",
                                row.len()
                            )));
                        }
                        Some(_) => {}
                    }
                    flat.extend_from_slice(&row);
                    count += 1;
                }
                Ok(Tokens(DMatrix::from_vec(dim.unwrap_or(0), count, flat)))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
struct XInput<T: Real> {
    x: Nums<T>,
}

/// The input of both norms (RMSNorm takes no `beta`: [`NormInput::read`] rejects it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
struct NormInput<T: Real> {
    x: Nums<T>,
    eps: Option<Num<T>>,
    gamma: Option<Nums<T>>,
    beta: Option<Nums<T>>,
}

/// A norm's row, its `ε` (`eps` or `default`, never negative), γ and β, each of the row's
/// length.
type NormArgs<T> = (Vec<T>, T, Option<Vec<T>>, Option<Vec<T>>);

impl<T: Real> NormInput<T> {
    fn read(line: &str, default_eps: T, takes_beta: bool) -> Result<NormArgs<T>, String> {
        let inp = parse::<Self>(line)?;
        if inp.beta.is_some() && !takes_beta {
            return Err("rms_norm takes no beta (RMSNorm adds no bias)".into());
        }
        let x = inp.x.0;
        let eps = eps_or(inp.eps, default_eps)?;
        let (gamma, beta) = (inp.gamma.map(|g| g.0), inp.beta.map(|b| b.0));
        for (name, v) in [("gamma", &gamma), ("beta", &beta)] {
            if let Some(v) = v {
                same_len(name, v.len(), "x", x.len())?;
            }
        }
        Ok((x, eps, gamma, beta))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
struct CeInput<T: Real> {
    logits: Nums<T>,
    target: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
struct TokenInput<T: Real> {
    x: Nums<T>,
    tokens: Tokens<T>,
}

fn parse<I: DeserializeOwned>(line: &str) -> Result<I, String> {
    serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        if e.is_syntax() || e.is_eof() {
            format!("malformed JSON: {msg}")
        } else {
            msg
        }
    })
}

pub(crate) fn number<T: Real>(v: T) -> String {
    if v.is_finite() {
        v.shortest_repr()
    } else {
        format!("\"{}\"", v.shortest_repr())
    }
}

fn array<T: Real>(v: &[T]) -> String {
    let parts: Vec<String> = v.iter().map(|&x| number(x)).collect();
    format!("[{}]", parts.join(","))
}

fn same_len(name: &str, got: usize, what: &str, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{name} has {got} entries but {what} has {want}"))
    }
}

fn eps_or<T: Real>(eps: Option<Num<T>>, default: T) -> Result<T, String> {
    let e = eps.map_or(default, |n| n.0);
    if e >= T::zero() {
        Ok(e)
    } else {
        Err(format!(
            "eps must be a number >= 0, got {}",
            e.shortest_repr()
        ))
    }
}

fn index_json(i: Option<usize>) -> String {
    match i {
        Some(i) => format!("{{\"index\":{i}}}"),
        None => "{\"index\":null}".into(),
    }
}

/// Answer one input line (without its newline) for `op` in dtype `T`: the output object, or
/// the error message (without the `line N:` prefix).
///
/// ```
/// use transformer_laws::compute::{answer, Op};
/// assert_eq!(answer::<f32>(Op::LogSoftmax, r#"{"x":[0,-20]}"#).unwrap(), r#"{"y":[-2.0611537e-9,-20.0]}"#);
/// assert_eq!(answer::<f64>(Op::ArgmaxDot, r#"{"x":[1],"tokens":[[1],[2]]}"#).unwrap(), r#"{"index":1}"#);
/// ```
pub fn answer<T: Real>(op: Op, line: &str) -> Result<String, String> {
    if line.trim().is_empty() {
        return Err("empty line (expected a JSON object)".into());
    }
    match op {
        Op::Softmax | Op::LogSoftmax | Op::Logsumexp => {
            let XInput { x: Nums(x) } = parse::<XInput<T>>(line)?;
            Ok(match op {
                Op::Softmax => format!("{{\"y\":{}}}", array(&softmax::softmax(&x))),
                Op::LogSoftmax => format!("{{\"y\":{}}}", array(&softmax::log_softmax(&x))),
                _ => format!("{{\"y\":{}}}", number(softmax::logsumexp(&x))),
            })
        }
        Op::LayerNorm => {
            let (x, eps, gamma, beta) = NormInput::read(line, T::narrow(1e-5), true)?;
            let y = norms::layer_norm(&x, eps, gamma.as_deref(), beta.as_deref());
            Ok(format!("{{\"y\":{}}}", array(&y)))
        }
        Op::RmsNorm => {
            let (x, eps, gamma, _) = NormInput::read(line, T::epsilon(), false)?;
            let y = norms::rms_norm(&x, eps, gamma.as_deref());
            Ok(format!("{{\"y\":{}}}", array(&y)))
        }
        Op::CrossEntropy => {
            let CeInput {
                logits: Nums(z),
                target,
            } = parse::<CeInput<T>>(line)?;
            let t = usize::try_from(target)
                .ok()
                .filter(|&t| t < z.len())
                .ok_or_else(|| format!("target {target} is out of range for {} logits", z.len()))?;
            let (l, g) = loss::cross_entropy_with_grad(&z, t);
            Ok(format!("{{\"loss\":{},\"grad\":{}}}", number(l), array(&g)))
        }
        Op::ArgmaxDot | Op::NearestEuclidean | Op::NearestCosine => {
            let TokenInput {
                x: Nums(x),
                tokens: Tokens(w),
            } = parse::<TokenInput<T>>(line)?;
            if w.ncols() == 0 {
                return Err("tokens is empty: there is no token to pick".into());
            }
            same_len("x", x.len(), "each token", w.nrows())?;
            Ok(index_json(match op {
                Op::ArgmaxDot => unembed::argmax_dot(&w, &x),
                Op::NearestEuclidean => unembed::nearest_euclidean(&w, &x),
                _ => unembed::nearest_cosine(&w, &x),
            }))
        }
    }
}

/// Answer one raw line (bytes, without its newline) numbered `n` (1-based): the output object
/// or `{"error": "line n: ..."}`. Never panics: an internal panic becomes an error line.
pub fn answer_line(op: Op, dtype: Dtype, n: usize, raw: &[u8]) -> Result<String, String> {
    let result = match std::str::from_utf8(raw) {
        Err(e) => Err(format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )),
        Ok(line) => std::panic::catch_unwind(|| match dtype {
            Dtype::F32 => answer::<f32>(op, line),
            Dtype::F64 => answer::<f64>(op, line),
        })
        .unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown".into());
            Err(format!("internal error: {msg}"))
        }),
    };
    result.map_err(|msg| {
        let text = format!("line {n}: {msg}");
        format!(
            "{{\"error\":{}}}",
            serde_json::to_string(&text).expect("a string serializes")
        )
    })
}

/// Run `compute` over every line of `input`, writing one line per input line to `output`.
///
/// Returns the [`Summary`]; an `Err` only for I/O failures (reading, or writing — a closed
/// pipe included, which the caller may treat as a normal stop).
///
/// ```
/// use transformer_laws::compute::{run, Dtype, Op, Summary};
/// let mut out = Vec::new();
/// let s = run(Op::Softmax, Dtype::F32, &b"{\"x\":[0,0]}\n{\n"[..], &mut out).unwrap();
/// assert_eq!(s, Summary { lines: 2, failed: 1 });
/// assert!(String::from_utf8(out).unwrap().starts_with("{\"y\":[0.5,0.5]}\n{\"error\":\"line 2:"));
/// ```
pub fn run<R: BufRead, W: Write>(
    op: Op,
    dtype: Dtype,
    mut input: R,
    mut output: W,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        summary.lines += 1;
        let mut raw = buf.as_slice();
        if let Some(r) = raw.strip_suffix(b"\n") {
            raw = r.strip_suffix(b"\r").unwrap_or(r);
        }
        let out = match answer_line(op, dtype, summary.lines, raw) {
            Ok(s) => s,
            Err(e) => {
                summary.failed += 1;
                e
            }
        };
        output.write_all(out.as_bytes())?;
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_in_their_own_dtype() {
        // 16777217 rounds to 16777216 in f32; via f64 it would be exact then rounded again.
        let y = answer::<f32>(Op::Softmax, r#"{"x":[16777217]}"#).unwrap();
        assert_eq!(y, r#"{"y":[1.0]}"#);
        let err = answer::<f32>(Op::Logsumexp, r#"{"x":[1e39]}"#).unwrap_err();
        assert!(err.contains("is out of range for f32"), "{err}");
        let huge = format!("{{\"x\":[\"{}\"]}}", "a".repeat(10_000));
        let err = answer::<f64>(Op::Softmax, &huge).unwrap_err();
        assert!(
            err.len() < 200 && err.contains("(10000 characters)"),
            "{err}"
        );
        assert!(answer::<f64>(Op::Logsumexp, r#"{"x":[1e39]}"#).is_ok());
    }

    #[test]
    fn non_finite_strings_in_and_out() {
        let y = answer::<f64>(Op::LogSoftmax, r#"{"x":[0, "-Infinity"]}"#).unwrap();
        assert_eq!(y, r#"{"y":[0.0,"-Infinity"]}"#);
        let y = answer::<f64>(Op::Softmax, r#"{"x":["NaN"]}"#).unwrap();
        assert_eq!(y, r#"{"y":["NaN"]}"#);
    }

    #[test]
    fn errors_name_the_line() {
        let e = answer_line(Op::Softmax, Dtype::F64, 7, b"{").unwrap_err();
        assert!(e.starts_with(r#"{"error":"line 7: malformed JSON"#), "{e}");
    }
}
