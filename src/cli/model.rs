//! The work behind `transformer-laws model …`: load a checkpoint
//! ([`crate::transformer::checkpoint`]), run it, render the answer. The binary only parses
//! arguments and prints what these functions return.
//!
//! `model logits PATH --tokens 5,17,3 [--dtype f32|f64] [--config FILE]` prints one JSON line
//! per position, `{"position": p, "token": t, "logits": [...]}`, with non-finite logits as the
//! strings `"NaN"`, `"Infinity"`, `"-Infinity"` (as `compute` does). Every problem — a bad
//! `--tokens`, a token outside the vocabulary, a sequence longer than the model's positions, a
//! checkpoint that does not load — is one line naming the token, field or tensor.
//!
//! `model report PATH --tokens … [--format text|markdown|json]` renders
//! [`crate::transformer::report`] on the checkpoint (with a progress bar for the unargmaxable
//! scan on a terminal); `model process PATH -o DIR` writes the processed checkpoint
//! ([`crate::transformer::export`]) and says which transforms were applied or refused.

use crate::cli::compute::{Dtype, number};
use crate::kernels::scalar::Real;
use crate::transformer::Linear;
use crate::transformer::checkpoint::{Checkpoint, load_checkpoint};
use crate::transformer::export::{self, write_processed};
use crate::transformer::report::{self, ReportOptions, model_report};
use crate::transformer::unargmaxable::terminal_progress;
use std::io::IsTerminal;
use std::path::Path;

/// Files smaller than this load without a progress bar (it would only flash).
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// Parse `--tokens`: comma-separated non-negative integers, spaces allowed around them.
///
/// ```
/// use transformer_laws::model_cli::parse_tokens;
/// assert_eq!(parse_tokens("5, 17,3"), Ok(vec![5, 17, 3]));
/// assert!(parse_tokens("5,,3").unwrap_err().contains("item 2"));
/// ```
pub fn parse_tokens(s: &str) -> Result<Vec<usize>, String> {
    if s.trim().is_empty() {
        return Err("--tokens: no tokens given (expected e.g. 5,17,3)".into());
    }
    s.split(',')
        .enumerate()
        .map(|(i, t)| {
            t.trim().parse::<usize>().map_err(|_| {
                format!(
                    "--tokens: item {} is {:?}, not a token id (expected non-negative integers separated by commas, e.g. 5,17,3)",
                    i + 1,
                    t.trim()
                )
            })
        })
        .collect()
}

/// A progress callback for loading: an `indicatif` bar on stderr when both stdout and stderr
/// are terminals and the checkpoint is large; nothing otherwise.
fn progress() -> (impl FnMut(u64, u64), impl FnOnce()) {
    let shown = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    let bar = std::rc::Rc::new(std::cell::RefCell::new(None::<indicatif::ProgressBar>));
    let b = bar.clone();
    let update = move |done: u64, total: u64| {
        if !shown || total < PROGRESS_MIN_BYTES {
            return;
        }
        let mut slot = b.borrow_mut();
        let pb = slot.get_or_insert_with(|| {
            let pb = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "loading {bar:40} {bytes}/{total_bytes} ({eta})",
            ) {
                pb.set_style(style);
            }
            pb
        });
        pb.set_position(done);
    };
    let finish = move || {
        if let Some(pb) = bar.borrow_mut().take() {
            pb.finish_and_clear();
        }
    };
    (update, finish)
}

fn load<T: Real>(path: &Path, config: Option<&Path>) -> Result<Checkpoint<T>, String> {
    let (mut update, finish) = progress();
    let c = load_checkpoint::<T>(path, config, &mut update).map_err(|e| e.to_string());
    finish();
    c
}

fn render_logits<T: Real>(
    path: &Path,
    config: Option<&Path>,
    tokens: &[usize],
    bound: bool,
    linear: Linear,
) -> Result<String, String> {
    let c = load::<T>(path, config)?;
    c.check_tokens(tokens)?;
    let (logits, bounds) = if bound {
        let r = c.model.run_with_bound_using(tokens, linear);
        (r.logits, Some(r.bound))
    } else {
        (c.model.forward_with(tokens, linear), None)
    };
    let mut out = String::new();
    for (p, &t) in tokens.iter().enumerate() {
        let row: Vec<String> = logits.row(p).iter().map(|&v| number(v)).collect();
        let b = bounds
            .as_ref()
            .map_or(String::new(), |b| format!(",\"bound\":{}", number(b[p])));
        out.push_str(&format!(
            "{{\"position\":{p},\"token\":{t},\"logits\":[{}]{b}}}\n",
            row.join(",")
        ));
    }
    Ok(out)
}

/// `model logits`: the JSON Lines output, or the one-line error. With `bound`, each line also
/// has `"bound"`: a rigorous bound on the largest error of that line's logits
/// ([`Model::run_with_bound_using`](crate::transformer::Model::run_with_bound_using)). The
/// linear maps are computed by `linear` ([`Linear::Gemm`] unless the reference is asked for).
pub fn logits(
    path: &Path,
    config: Option<&Path>,
    tokens: &str,
    dtype: Dtype,
    bound: bool,
    linear: Linear,
) -> Result<String, String> {
    let tokens = parse_tokens(tokens)?;
    match dtype {
        Dtype::F32 => render_logits::<f32>(path, config, &tokens, bound, linear),
        Dtype::F64 => render_logits::<f64>(path, config, &tokens, bound, linear),
    }
}

fn render_report<T: Real>(
    path: &Path,
    config: Option<&Path>,
    tokens: &[usize],
    format: report::ModelFormat,
    bound: bool,
    linear: Linear,
) -> Result<String, String> {
    let c = load::<T>(path, config)?;
    c.check_tokens(tokens)?;
    let bar = terminal_progress(c.model.vocab() as u64, "unargmaxable scan");
    let options = ReportOptions {
        bound,
        linear,
        ..ReportOptions::default()
    };
    let r = model_report(&c.model, tokens, &options, &|n| bar.inc(n)).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    Ok(report::render(&r, format))
}

/// `model report`: the processing table, the thread's questions on the model's own vectors and
/// the unargmaxable tokens, rendered (with `bound`, each position's proven logit error bound);
/// or the one-line error.
pub fn report(
    path: &Path,
    config: Option<&Path>,
    tokens: &str,
    dtype: Dtype,
    format: report::ModelFormat,
    bound: bool,
    linear: Linear,
) -> Result<String, String> {
    let tokens = parse_tokens(tokens)?;
    match dtype {
        Dtype::F32 => render_report::<f32>(path, config, &tokens, format, bound, linear),
        Dtype::F64 => render_report::<f64>(path, config, &tokens, format, bound, linear),
    }
}

/// `model process`: process the checkpoint (in f64) and write it to `out` in `dtype`; the
/// answer lists what was applied, refused and written.
pub fn process(
    path: &Path,
    config: Option<&Path>,
    out: &Path,
    dtype: Dtype,
) -> Result<String, String> {
    let c = load::<f64>(path, config)?;
    let written = match dtype {
        Dtype::F32 => export::Dtype::F32,
        Dtype::F64 => export::Dtype::F64,
    };
    let p = write_processed(&c.model, out, written).map_err(|e| e.to_string())?;
    let mut s = String::new();
    for step in &p.steps {
        match &step.refused {
            None => s.push_str(&format!("applied  {}\n", step.name)),
            Some(why) => s.push_str(&format!("refused  {}: {why}\n", step.name)),
        }
    }
    s.push_str(&format!(
        "wrote    {} and {}\n",
        out.join("model.safetensors").display(),
        out.join("config.json").display()
    ));
    Ok(s)
}
