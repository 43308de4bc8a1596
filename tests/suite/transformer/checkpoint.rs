//! Loading Hugging Face checkpoints (`tests/fixtures`, made by `make_fixtures.py` with
//! `transformers`): the loaded models reproduce the logits `transformers` computed, within the
//! crate's own bound plus the reference's (`reference_f64_rho`); the transforms keep their
//! postconditions on them; every kind of bad input is a named error, not a panic.

use super::writes_are_centered;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::Value;
use std::path::{Path, PathBuf};
use transformer_laws::tolerance::reference_f64_rho;
use transformer_laws::transformer::checkpoint::{CheckpointError, load, load_checkpoint};
use transformer_laws::transformer::process::{
    ProcessError, center_unembed, center_writing_weights, fold_layernorm, fold_value_biases,
};
use transformer_laws::transformer::unargmaxable::{ScanOptions, Verdict, scan, verify};
use transformer_laws::transformer::{Activation, Model, NormKind, RopeStyle, transform_rho};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `logits.json`: the tokens and transformers' logits (`float64`, `float32`).
fn reference(name: &str) -> (Vec<usize>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(fixture(name).join("logits.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let tokens = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as usize)
        .collect();
    let rows = v["float64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    (tokens, rows)
}

/// The largest fan-in of the model's linear maps (for [`reference_f64_rho`]).
fn fan_in<T: nalgebra::Scalar>(m: &Model<T>) -> usize {
    let d = m.d_model();
    m.blocks
        .iter()
        .flat_map(|b| [b.mlp.w_out.nrows(), b.attn.heads[0].w_o.nrows()])
        .fold(d, usize::max)
}

/// The f64 load against transformers' float64 logits within `run(tokens, ρ_ref).logit_error`
/// (see [`reference_f64_rho`]); the f32 load within its own bound plus twice that (the f64
/// bound covers both the exact logits' distance to the f64 ones and the reference's).
/// Returns the largest observed difference over the bound, for the f64 and the f32 load.
fn reproduces(name: &str) -> (f64, f64) {
    let (tokens, want) = reference(name);
    let m64 = load::<f64>(&fixture(name), None).unwrap();
    let m32 = load::<f32>(&fixture(name), None).unwrap();
    let rho = reference_f64_rho(fan_in(&m64), tokens.len());
    let r64 = m64.run(&tokens, rho);
    let r32 = m32.run(&tokens, 0.0);
    let (mut worst64, mut worst32) = (0.0f64, 0.0f64);
    assert_eq!(r64.logits.nrows(), want.len());
    for (p, row) in want.iter().enumerate() {
        assert_eq!(row.len(), m64.vocab(), "{name}: vocabulary");
        let tol64 = r64.logit_error[p];
        let tol32 = r32.logit_error[p] + 2.0 * tol64;
        assert!(
            tol64 < 1e-8 && tol32 < 0.1,
            "{name}: bound not informative: {tol64:e}, {tol32:e}"
        );
        for (j, &w) in row.iter().enumerate() {
            let d64 = (r64.logits[(p, j)] - w).abs();
            let d32 = (f64::from(r32.logits[(p, j)]) - w).abs();
            assert!(
                d64 <= tol64,
                "{name} f64: position {p}, logit {j}: {} vs {w}: {d64:e} > {tol64:e}",
                r64.logits[(p, j)]
            );
            assert!(
                d32 <= tol32,
                "{name} f32: position {p}, logit {j}: {} vs {w}: {d32:e} > {tol32:e}",
                r32.logits[(p, j)]
            );
            worst64 = worst64.max(d64 / tol64);
            worst32 = worst32.max(d32 / tol32);
        }
    }
    (worst64, worst32)
}

#[test]
fn gpt2_reproduces_transformers_logits() {
    let (a, b) = reproduces("gpt2-tiny");
    // The comparison is not vacuous: the logits differ between positions and tokens by far more
    // than the bound (checked in `the_fixtures_are_not_trivial`), and the f32 load's error is a
    // visible fraction of its bound.
    assert!(a <= 1.0 && b <= 1.0 && b > 0.0, "{a} {b}");
}

#[test]
fn llama_reproduces_transformers_logits() {
    let (a, b) = reproduces("llama-tiny");
    assert!(a <= 1.0 && b <= 1.0 && b > 0.0, "{a} {b}");
}

#[test]
fn half_precision_checkpoints_load_exactly() {
    reproduces("gpt2-tiny-f16");
    reproduces("llama-tiny-bf16");
    let c = load_checkpoint::<f32>(&fixture("gpt2-tiny-f16"), None, &mut |_, _| {}).unwrap();
    assert_eq!(c.info.dtypes, vec!["F16".to_string()]);
    assert!(!c.info.rounded);
    let c = load_checkpoint::<f64>(&fixture("llama-tiny-bf16"), None, &mut |_, _| {}).unwrap();
    assert_eq!(c.info.dtypes, vec!["BF16".to_string()]);
}

/// The sharded fixture holds the same weights as the single-file one (same seeds).
#[test]
fn a_sharded_checkpoint_loads_as_the_single_file() {
    let a = load::<f64>(&fixture("gpt2-tiny"), None).unwrap();
    let b = load::<f64>(&fixture("gpt2-tiny-sharded"), None).unwrap();
    assert_eq!(a, b);
    reproduces("gpt2-tiny-sharded");
    // Progress reaches the total.
    let mut last = (0, 1);
    load_checkpoint::<f32>(&fixture("gpt2-tiny-sharded"), None, &mut |d, t| {
        last = (d, t)
    })
    .unwrap();
    assert_eq!(last.0, last.1);
}

#[test]
fn a_file_with_an_explicit_config_loads() {
    let dir = fixture("llama-tiny");
    let a = load::<f64>(
        &dir.join("model.safetensors"),
        Some(&dir.join("config.json")),
    )
    .unwrap();
    let b = load::<f64>(&dir, None).unwrap();
    assert_eq!(a, b);
}

#[test]
fn the_architectures_are_read_as_documented() {
    let g = load_checkpoint::<f64>(&fixture("gpt2-tiny"), None, &mut |_, _| {}).unwrap();
    assert_eq!(g.info.architecture, "GPT2LMHeadModel");
    assert_eq!((g.info.vocab, g.info.n_ctx), (50, 12));
    let m = &g.model;
    assert_eq!(m.blocks[0].mlp.act, Activation::GeluTanh);
    assert_eq!(m.w_u, m.w_e.transpose(), "tied unembedding");
    assert!(
        m.blocks
            .iter()
            .all(|b| b.attn.rope.is_none() && b.mlp.w_gate.is_none())
    );
    let l = load_checkpoint::<f64>(&fixture("llama-tiny"), None, &mut |_, _| {}).unwrap();
    assert_eq!(l.info.architecture, "LlamaForCausalLM");
    assert_eq!((l.info.vocab, l.info.n_ctx), (60, 24));
    let m = &l.model;
    let b = &m.blocks[1];
    assert_eq!((b.attn.heads.len(), b.attn.heads_per_kv), (4, 2));
    let rope = b.attn.rope.unwrap();
    assert_eq!((rope.base, rope.style), (500.0, RopeStyle::RotateHalf));
    assert!(b.mlp.w_gate.is_some() && b.mlp.act == Activation::Silu && b.mlp.b_in.is_none());
    assert_eq!(b.ln1.kind, NormKind::RmsNorm);
    assert_ne!(m.w_u, m.w_e.transpose(), "untied lm_head");
    // Heads 0 and 1 share a key/value head, heads 1 and 2 do not.
    assert_eq!(b.attn.heads[0].w_k, b.attn.heads[1].w_k);
    assert_ne!(b.attn.heads[1].w_k, b.attn.heads[2].w_k);
}

/// The random initialisation is not HF's trivial one (γ = 1, β = 0, biases 0), so that folding
/// and centering have something to do, and the logits spread out.
#[test]
fn the_fixtures_are_not_trivial() {
    let m = load::<f64>(&fixture("gpt2-tiny"), None).unwrap();
    let b = &m.blocks[0];
    assert!(
        b.ln1
            .gamma
            .as_ref()
            .unwrap()
            .iter()
            .any(|&g| (g - 1.0).abs() > 0.1)
    );
    assert!(b.ln1.beta.as_ref().unwrap().iter().any(|&v| v.abs() > 0.1));
    assert!(b.attn.b_o.iter().any(|&v| v.abs() > 0.1));
    assert!(b.attn.heads[0].b_v.iter().any(|&v| v.abs() > 0.1));
    let (_, want) = reference("gpt2-tiny");
    let spread = want[0].iter().fold(0.0f64, |a, &x| a.max(x))
        - want[0].iter().fold(0.0f64, |a, &x| a.min(x));
    assert!(spread > 1.0, "{spread}");
}

/// The transforms on the real layouts, with their own postconditions and the preserved logits.
#[test]
fn transforms_on_the_loaded_models() {
    for name in ["gpt2-tiny", "llama-tiny"] {
        let (tokens, _) = reference(name);
        let m = load::<f64>(&fixture(name), None).unwrap();
        let a = m.run(&tokens, 0.0);
        let close = |p: &Model<f64>, up_to_shift: bool| {
            let b = p.run(&tokens, transform_rho::<f64>());
            for i in 0..tokens.len() {
                let shift = if up_to_shift {
                    b.logits[(i, 0)] - a.logits[(i, 0)]
                } else {
                    0.0
                };
                let tol = a.logit_error[i] + b.logit_error[i];
                for j in 0..m.vocab() {
                    let d = (b.logits[(i, j)] - a.logits[(i, j)] - shift).abs();
                    assert!(
                        d <= 2.0 * tol,
                        "{name}: position {i}, logit {j}: {d:e} > {tol:e}"
                    );
                }
            }
        };
        let folded = fold_layernorm(&m);
        assert!(
            folded
                .norms()
                .iter()
                .all(|(_, n)| n.gamma.is_none() && n.beta.is_none())
        );
        close(&folded, false);
        let vb = fold_value_biases(&m);
        assert!(
            vb.blocks
                .iter()
                .all(|b| b.attn.heads.iter().all(|h| h.b_v.iter().all(|&v| v == 0.0)))
        );
        close(&vb, false);
        close(&center_unembed(&m), true);
        match center_writing_weights(&m) {
            Ok(c) => {
                assert_eq!(name, "gpt2-tiny");
                writes_are_centered(&m, &c).unwrap();
                close(&c, false);
            }
            Err(ProcessError::RmsNormReader(at)) => {
                assert_eq!((name, at.as_str()), ("llama-tiny", "blocks[0].ln1"));
            }
        }
    }
}

/// A scratch directory for one test's bad files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tl-checkpoint-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What to do to one tensor of the fixture.
enum Edit<'a> {
    Keep,
    Drop(&'a str),
    Replace(&'a str, TensorView<'a>),
}

/// The GPT-2 fixture copied into `dir`, one tensor edited and the config rewritten by `config`.
fn rewritten(dir: &Path, edit: Edit<'_>, config: impl Fn(&mut Value)) {
    let src = fixture("gpt2-tiny");
    let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors = st.tensors();
    match edit {
        Edit::Keep => {}
        Edit::Drop(name) => tensors.retain(|(n, _)| n != name),
        Edit::Replace(name, view) => {
            for (n, v) in tensors.iter_mut() {
                if n == name {
                    *v = view.clone();
                }
            }
        }
    }
    safetensors::serialize_to_file(tensors, None, &dir.join("model.safetensors")).unwrap();
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config(&mut cfg);
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
}

fn error_of(dir: &Path) -> String {
    match load::<f32>(dir, None) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_truncated_file_is_named() {
    let dir = scratch("truncated");
    rewritten(&dir, Edit::Keep, |_| {});
    let f = dir.join("model.safetensors");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() - 100]).unwrap();
    let e = error_of(&dir);
    assert!(
        e.contains("model.safetensors") && e.contains("not a valid safetensors file"),
        "{e}"
    );
    // A header cut short, and garbage.
    std::fs::write(&f, &bytes[..20]).unwrap();
    assert!(error_of(&dir).contains("not a valid safetensors file"));
    std::fs::write(&f, b"\x08\0\0\0\0\0\0\0{garbage").unwrap();
    assert!(error_of(&dir).contains("not a valid safetensors file"));
    std::fs::write(&f, b"").unwrap();
    assert!(error_of(&dir).contains("not a valid safetensors file"));
}

#[test]
fn a_missing_tensor_is_named() {
    let dir = scratch("missing");
    rewritten(
        &dir,
        Edit::Drop("transformer.h.1.attn.c_proj.weight"),
        |_| {},
    );
    let e = error_of(&dir);
    assert_eq!(
        e,
        "tensor `transformer.h.1.attn.c_proj.weight` is missing from the checkpoint"
    );
}

#[test]
fn a_misshapen_tensor_is_named() {
    let dir = scratch("misshapen");
    let data = vec![0u8; 4 * 16 * 47];
    let view = TensorView::new(Dtype::F32, vec![16, 47], &data).unwrap();
    rewritten(
        &dir,
        Edit::Replace("transformer.h.0.mlp.c_fc.weight", view),
        |_| {},
    );
    let e = error_of(&dir);
    assert!(
        e.contains("`transformer.h.0.mlp.c_fc.weight` has shape [16, 47]")
            && e.contains("[16, 48]"),
        "{e}"
    );
}

#[test]
fn a_config_that_disagrees_with_the_tensors_is_named() {
    let dir = scratch("disagree");
    // Wider than the tensors.
    rewritten(&dir, Edit::Keep, |c| c["n_embd"] = 32.into());
    let e = error_of(&dir);
    assert!(
        e.contains("transformer.wte.weight") && e.contains("n_embd"),
        "{e}"
    );
    // Fewer layers than the file holds: block 1 has no place.
    rewritten(&dir, Edit::Keep, |c| c["n_layer"] = 1.into());
    let e = error_of(&dir);
    assert!(
        e.contains("transformer.h.1.") && e.contains("n_layer"),
        "{e}"
    );
    // More layers than the file holds.
    rewritten(&dir, Edit::Keep, |c| c["n_layer"] = 3.into());
    assert!(error_of(&dir).contains("transformer.h.2.ln_1.weight"));
    // A field of the wrong type, and a missing one.
    rewritten(&dir, Edit::Keep, |c| c["n_head"] = "two".into());
    let e = error_of(&dir);
    assert!(
        e.contains("field `n_head`") && e.contains("not a positive integer"),
        "{e}"
    );
    rewritten(&dir, Edit::Keep, |c| {
        c.as_object_mut().unwrap().remove("vocab_size");
    });
    assert!(error_of(&dir).contains("field `vocab_size`: missing"));
    // Heads that do not divide the width.
    rewritten(&dir, Edit::Keep, |c| c["n_head"] = 3.into());
    assert!(error_of(&dir).contains("field `n_head`"));
    // Not JSON.
    std::fs::write(dir.join("config.json"), "{").unwrap();
    assert!(error_of(&dir).contains("not valid JSON"));
}

#[test]
fn an_unknown_architecture_lists_the_supported_ones() {
    let dir = scratch("arch");
    rewritten(&dir, Edit::Keep, |c| {
        c["architectures"] = serde_json::json!(["MistralForCausalLM"])
    });
    assert_eq!(
        error_of(&dir),
        "unknown architecture `MistralForCausalLM`; supported: GPT2LMHeadModel, LlamaForCausalLM"
    );
    rewritten(&dir, Edit::Keep, |c| {
        c["activation_function"] = "gelu_10".into()
    });
    assert!(error_of(&dir).contains("field `activation_function` = gelu_10: not supported"));
}

#[test]
fn an_unsupported_dtype_is_named() {
    let dir = scratch("dtype");
    let data = vec![0u8; 4 * 16];
    let view = TensorView::new(Dtype::I32, vec![16], &data).unwrap();
    rewritten(&dir, Edit::Replace("transformer.ln_f.bias", view), |_| {});
    assert_eq!(
        error_of(&dir),
        "tensor `transformer.ln_f.bias` has dtype I32; supported: F32, F16, BF16, F64"
    );
}

#[test]
fn missing_files_are_named() {
    let dir = scratch("nofiles");
    let e = error_of(&dir);
    assert!(e.contains("no model.safetensors"), "{e}");
    let e = error_of(&dir.join("nothing-here"));
    assert!(e.contains("no such file or directory"), "{e}");
    // A weights file without a config beside it.
    std::fs::copy(
        fixture("gpt2-tiny").join("model.safetensors"),
        dir.join("w.safetensors"),
    )
    .unwrap();
    let e = error_of(&dir.join("w.safetensors"));
    assert!(e.contains("config.json") && e.contains("--config"), "{e}");
    let e = load::<f64>(&dir.join("w.safetensors"), Some(&dir.join("absent.json"))).unwrap_err();
    assert!(matches!(e, CheckpointError::Io { .. }), "{e}");
}

#[test]
fn tokens_are_checked_against_the_vocabulary_and_positions() {
    let c = load_checkpoint::<f32>(&fixture("gpt2-tiny"), None, &mut |_, _| {}).unwrap();
    assert_eq!(c.check_tokens(&[1, 2, 49]), Ok(()));
    let e = c.check_tokens(&[1, 50]).unwrap_err();
    assert!(
        e.contains("token 50 at position 1") && e.contains("50 tokens"),
        "{e}"
    );
    let e = c.check_tokens(&[0; 13]).unwrap_err();
    assert!(e.contains("13 tokens") && e.contains("12 positions"), "{e}");
}

/// Resident memory of this process now and at its peak since the last reset (Linux), in bytes.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Tokens of the GPT-2-small-shaped checkpoint planted as midpoints of two others (exactly):
/// the last `PLANTED` tokens, each the midpoint of tokens `2p` and `2p + 1`.
const PLANTED: usize = 8;

/// A GPT-2-small-shaped checkpoint (124 M parameters, f32) written tensor by tensor with random
/// weights, so that writing it does not hold it in memory; the last [`PLANTED`] tokens of `wte`
/// lie inside the others' hull.
fn write_gpt2_small(dir: &Path) -> u64 {
    use std::io::Write;
    let (v, d, l, n_pos, dm) = (50257usize, 768usize, 12usize, 1024usize, 3072usize);
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        ("wte.weight".into(), vec![v, d]),
        ("wpe.weight".into(), vec![n_pos, d]),
    ];
    for i in 0..l {
        let h = |n: &str| format!("h.{i}.{n}");
        shapes.extend([
            (h("ln_1.weight"), vec![d]),
            (h("ln_1.bias"), vec![d]),
            (h("attn.c_attn.weight"), vec![d, 3 * d]),
            (h("attn.c_attn.bias"), vec![3 * d]),
            (h("attn.c_proj.weight"), vec![d, d]),
            (h("attn.c_proj.bias"), vec![d]),
            (h("ln_2.weight"), vec![d]),
            (h("ln_2.bias"), vec![d]),
            (h("mlp.c_fc.weight"), vec![d, dm]),
            (h("mlp.c_fc.bias"), vec![dm]),
            (h("mlp.c_proj.weight"), vec![dm, d]),
            (h("mlp.c_proj.bias"), vec![d]),
        ]);
    }
    shapes.extend([
        ("ln_f.weight".into(), vec![d]),
        ("ln_f.bias".into(), vec![d]),
    ]);
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape) in &shapes {
        let bytes = 4 * shape.iter().product::<usize>();
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let mut text = Value::Object(header).to_string();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(dir.join("model.safetensors")).unwrap());
    f.write_all(&(text.len() as u64).to_le_bytes()).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for (name, shape) in &shapes {
        let is_gamma =
            name.ends_with("ln_1.weight") || name.ends_with("ln_2.weight") || name == "ln_f.weight";
        let scale = if name.starts_with("wte") || name.starts_with("wpe") {
            0.1
        } else {
            0.02
        };
        let wte = name == "wte.weight";
        let mut first_rows: Vec<f32> = Vec::new();
        for k in 0..shape.iter().product::<usize>() {
            // xorshift64*: uniform in [−1, 1).
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 52) as f64
                - 1.0;
            let x = if is_gamma {
                (1.0 + 0.1 * r) as f32
            } else if wte {
                // On a grid of 2⁻²⁰, so that the midpoint of two tokens is exact in f32.
                let x = ((scale * r) * 1048576.0).round() as f32 / 1048576.0;
                let (row, col) = (k / d, k % d);
                if row < 2 * PLANTED {
                    first_rows.push(x);
                    x
                } else if row >= v - PLANTED {
                    // The last tokens are midpoints of two of the first: never the unique top.
                    let p = row - (v - PLANTED);
                    0.5 * (first_rows[2 * p * d + col] + first_rows[(2 * p + 1) * d + col])
                } else {
                    x
                }
            } else {
                (scale * r) as f32
            };
            f.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    f.flush().unwrap();
    let cfg = serde_json::json!({
        "architectures": ["GPT2LMHeadModel"], "vocab_size": v, "n_positions": n_pos,
        "n_embd": d, "n_layer": l, "n_head": 12, "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
    });
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    std::fs::metadata(dir.join("model.safetensors"))
        .unwrap()
        .len()
}

/// The figures of the README's "Bring your own model" section: load time and resident memory
/// of a GPT-2-small-shaped f32 checkpoint, a 64-token f32 forward pass, and the unargmaxable
/// scan of its 50,257 × 768 unembedding. Run with
/// `TMPDIR=/some/disk cargo test --release --test transformer -- --ignored --nocapture
/// gpt2_small_scale` (the checkpoint, ~500 MB, is written under the temporary directory and
/// deleted afterwards).
/// It asserts the memory goal (peak resident memory of the load under 1.5× the file) and that
/// the scan decides every token; the times are printed, not judged (timing belongs to
/// benchmarks).
#[test]
#[ignore = "writes a 500 MB checkpoint; run by hand for the README's figures"]
fn gpt2_small_scale() {
    /// Deletes the checkpoint however the test ends.
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let dir = scratch("gpt2-small");
    let _remove = Remove(dir.clone());
    let size = write_gpt2_small(&dir);
    // Reset the peak (Linux: writing 5 to clear_refs resets VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = rss();
    let t = std::time::Instant::now();
    let model = load::<f32>(&dir, None).unwrap();
    let load_s = t.elapsed().as_secs_f64();
    let after = rss();
    let tokens: Vec<usize> = (0..64).map(|i| (i * 787) % 50257).collect();
    let t = std::time::Instant::now();
    let fast = model.forward_fast(&tokens);
    let fast_s = t.elapsed().as_secs_f64();
    let after_forward = rss();
    let t = std::time::Instant::now();
    let reference = model.forward(&tokens);
    let reference_s = t.elapsed().as_secs_f64();
    assert!(fast.iter().all(|x| x.is_finite()));
    let largest = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let apart = (&fast - &reference).amax();
    println!("file: {:.0} MB", size as f64 / 1e6);
    println!("load: {load_s:.2} s");
    if let (Some((r0, _)), Some((r1, peak))) = (before, after) {
        println!(
            "resident: {:.0} MB after the load ({:.2}× the file), peak {:.0} MB ({:.2}×); {:.0} MB before",
            r1 as f64 / 1e6,
            r1 as f64 / size as f64,
            peak as f64 / 1e6,
            peak as f64 / size as f64,
            r0 as f64 / 1e6
        );
    }
    println!(
        "64-token f32 forward pass: {fast_s:.2} s by matrix products (forward_fast), \
         {reference_s:.1} s compensated (forward); largest |fast − reference| {apart:e} \
         (largest logit {largest:e})"
    );
    if let Some((r, peak)) = after_forward {
        println!(
            "resident after the fast forward pass: {:.0} MB, peak {:.0} MB",
            r as f64 / 1e6,
            peak as f64 / 1e6
        );
    }
    let t = std::time::Instant::now();
    let verdicts = scan(&model.w_u, None, &ScanOptions::default(), &|_| {});
    let scan_s = t.elapsed().as_secs_f64();
    let mut counts = std::collections::BTreeMap::new();
    for v in &verdicts {
        let key = match v {
            Verdict::Argmaxable { method, .. } => format!("argmaxable by {}", method.name()),
            Verdict::Unargmaxable { method, .. } => format!("unargmaxable by {}", method.name()),
            Verdict::Undecided { .. } => "undecided".to_string(),
        };
        *counts.entry(key).or_insert(0usize) += 1;
    }
    println!(
        "unargmaxable scan of the {} × {} unembedding on {} threads: {scan_s:.1} s; {counts:?}",
        model.w_u.nrows(),
        model.w_u.ncols(),
        rayon::current_num_threads()
    );
    if let (Some((r0, _)), Some((_, peak))) = (before, after) {
        assert!(
            (peak.saturating_sub(r0)) as f64 <= 1.5 * size as f64,
            "the load's peak resident memory is over 1.5× the file"
        );
    }
    assert!(
        verdicts.iter().all(|v| v.argmaxable().is_some()),
        "every token is decided"
    );
    let v = verdicts.len();
    for (i, verdict) in verdicts.iter().enumerate().skip(v - PLANTED) {
        assert_eq!(verdict.argmaxable(), Some(false), "planted token {i}");
        assert_eq!(verify(&model.w_u, None, i, verdict), Ok(()), "token {i}");
    }
}
