//! The `transformer-laws` command line. It only parses arguments and prints; the work is in
//! the library.

use clap::{Parser, Subcommand};
use std::io::{self, BufWriter};
use std::process::ExitCode;
use transformer_laws::claims::{self, Claim};
use transformer_laws::compute::{self, Dtype, Op};
use transformer_laws::report::{self, ShowFormat};
use transformer_laws::search::{self, SearchConfig};
use transformer_laws::transformer::Linear;
use transformer_laws::transformer::report::ModelFormat;

#[derive(Parser)]
#[command(
    name = "transformer-laws",
    version,
    about = "Settles claims about the math inside transformers, and computes its reference functions."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct SearchArgs {
    /// Random cases per judgement.
    #[arg(long, default_value_t = SearchConfig::default().cases)]
    cases: u32,
    /// Seed of the random cases (the output is reproducible for a given seed).
    #[arg(long, default_value_t = SearchConfig::default().seed)]
    seed: u64,
}

impl From<SearchArgs> for SearchConfig {
    fn from(a: SearchArgs) -> Self {
        SearchConfig {
            cases: a.cases,
            seed: a.seed,
        }
    }
}

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    /// One line per judgement and a summary line.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// List every claim and reading with its computed verdict.
    List {
        #[command(flatten)]
        search: SearchArgs,
        /// Print the README's Markdown table instead.
        #[arg(long)]
        markdown: bool,
    },
    /// Run the checks (all claims, or the ids given). Exit status 0 when every computed
    /// verdict matches what the proofs state, 1 otherwise, 2 for an unknown id.
    Check {
        /// Claim ids (default: all).
        ids: Vec<String>,
        /// Output format: text (one line per judgement) or json (one document following
        /// schema/verdict.schema.json); the exit status is the same.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Show a claim: the thread's words, each reading's verdict and evidence, the corrected
    /// statement, the proof and the tests.
    Show {
        /// Claim id.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Draw a claim's counterexample or witness as SVG (figures exist for argmax-dot-vs-nearest,
    /// argmax-dot-scale-invariance, softmax-temperature, layernorm-sees-direction,
    /// hull-interior-never-top).
    #[cfg(feature = "plot")]
    Plot {
        /// Claim id.
        id: String,
        /// Output file (default: figures/<id>.svg).
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Run the counterexample (or witness) search live and show the simplification steps.
    Find {
        /// Claim id.
        id: String,
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Run a Hugging Face checkpoint (GPT-2 or Llama, safetensors) on your tokens.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Read JSON Lines on stdin, answer one JSON object per line on stdout.
    ///
    /// Exit status: 0 when every line was answered, 1 when some line answered {"error": ...},
    /// 2 for a usage or I/O error.
    Compute {
        /// The operation.
        #[arg(value_enum)]
        op: Op,
        /// The floating-point type to read, compute and print in.
        #[arg(long, value_enum, default_value_t = Dtype::F64)]
        dtype: Dtype,
    },
}

/// `transformer-laws model …`: Hugging Face checkpoints.
/// A checkpoint and the tokens to run it on (`model logits`, `model report`).
#[derive(clap::Args)]
struct ModelRun {
    /// The checkpoint.
    path: std::path::PathBuf,
    /// Token ids, comma-separated (e.g. 5,17,3).
    #[arg(long, allow_hyphen_values = true)]
    tokens: String,
    /// The floating-point type to load the weights into and compute in.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    dtype: Dtype,
    /// config.json, when PATH is a weights file without one beside it.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// How the linear maps are computed: `gemm`, matrix products on exact f64 copies (the
    /// default for f32, where its bound is the reference's own), or `compensated`, one
    /// compensated dot product per entry (the default for f64, where it is tighter than the
    /// products' γₙ; for f32 about 15× slower at GPT-2 size).
    #[arg(long, value_enum)]
    linear: Option<Linear>,
}

impl ModelRun {
    fn linear(&self) -> Linear {
        self.linear.unwrap_or(match self.dtype {
            Dtype::F32 => Linear::Gemm,
            Dtype::F64 => Linear::Compensated,
        })
    }
}

#[derive(Subcommand)]
enum ModelCommand {
    /// One JSON line per position: {"position": p, "token": t, "logits": [...]} (and "bound": b
    /// with --bound).
    ///
    /// PATH: a directory with config.json and model.safetensors (or a sharded
    /// model.safetensors.index.json), or a .safetensors file (with --config). Architectures:
    /// GPT2LMHeadModel, LlamaForCausalLM. Exit status 2 for a bad checkpoint or bad tokens.
    Logits {
        #[command(flatten)]
        run: ModelRun,
        /// Add "bound": a rigorous bound on the largest error of the line's logits (a forward
        /// pass in 128-bit interval arithmetic besides the plain one: a few hundred times slower).
        #[arg(long)]
        bound: bool,
    },
    /// The weight-processing transforms on this model (measured change of the log-probabilities
    /// beside its bound, or why refused), the thread's questions on the model's own token
    /// vectors (norms; argmax-dot vs nearest-Euclidean vs nearest-cosine at each position) and
    /// the tokens that can never be the unique top-1, each with a checked certificate.
    Report {
        #[command(flatten)]
        run: ModelRun,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ModelFormat::Text)]
        format: ModelFormat,
        /// Skip the proven bound on each position's logits (a forward pass in 128-bit interval
        /// arithmetic: minutes per token at GPT-2 size).
        #[arg(long)]
        no_bound: bool,
    },
    /// Write the processed checkpoint (LayerNorm folded, writing weights centered where valid,
    /// unembedding centered, value biases folded) as OUT/model.safetensors with
    /// TransformerLens' names, and OUT/config.json.
    Process {
        /// The checkpoint.
        path: std::path::PathBuf,
        /// The output directory (created if missing).
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// The floating-point type of the written tensors (processing runs in f64).
        #[arg(long, value_enum, default_value_t = Dtype::F32)]
        dtype: Dtype,
        /// config.json, when PATH is a weights file without one beside it.
        #[arg(long)]
        config: Option<std::path::PathBuf>,
    },
}

/// Write a subcommand's output and return its exit status. A reader that went away
/// (`| head -1`) is not an error: the output is simply cut, with the status unchanged. Any
/// other write error is reported on one line, exit status 2.
fn emit(text: &str, code: ExitCode) -> ExitCode {
    use std::io::Write;
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            eprintln!("transformer-laws: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compute { op, dtype } => cmd_compute(op, dtype),
        Command::Model { command } => cmd_model(command),
        Command::List { search, markdown } => cmd_list(search.into(), markdown),
        Command::Check {
            ids,
            format,
            search,
        } => cmd_check(&ids, format, search.into()),
        Command::Show { id, format, search } => cmd_show(&id, format, search.into()),
        Command::Find { id, search } => cmd_find(&id, search.into()),
        #[cfg(feature = "plot")]
        Command::Plot { id, output, search } => cmd_plot(&id, output, search.into()),
    }
}

/// The claim with this id, or a one-line error naming the nearest id.
fn lookup(id: &str) -> Result<Claim, ExitCode> {
    claims::find(id).ok_or_else(|| {
        let all = claims::registry();
        let nearest = all.iter().map(|c| (edit_distance(id, c.id), c.id)).min().map(|(_, n)| n).unwrap_or("");
        eprintln!("transformer-laws: unknown claim id '{id}' (did you mean '{nearest}'? `transformer-laws list` shows them all)");
        ExitCode::from(2)
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

fn cmd_list(cfg: SearchConfig, markdown: bool) -> ExitCode {
    let results = search::evaluate_all(&claims::registry(), cfg);
    let out = if markdown {
        report::table(&results)
    } else {
        report::list_text(&results)
    };
    emit(&out, ExitCode::SUCCESS)
}

fn cmd_check(ids: &[String], format: CheckFormat, cfg: SearchConfig) -> ExitCode {
    let claims: Vec<Claim> = if ids.is_empty() {
        claims::registry()
    } else {
        let mut v = Vec::new();
        for id in ids {
            match lookup(id) {
                Ok(c) => v.push(c),
                Err(code) => return code,
            }
        }
        v
    };
    let results = search::evaluate_all(&claims, cfg);
    let checked = report::check_text(&results, cfg);
    for d in &checked.disagreements {
        eprintln!("transformer-laws check: {d}");
    }
    // The JSON document carries the same verdicts as the text lines.
    let out = match format {
        CheckFormat::Text => checked.text,
        CheckFormat::Json => report::check_json(&results, cfg) + "\n",
    };
    let code = if checked.disagreements.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    emit(&out, code)
}

fn cmd_show(id: &str, format: ShowFormat, cfg: SearchConfig) -> ExitCode {
    let mut out = String::new();
    match lookup(id) {
        Ok(c) => {
            out.push_str(&report::render(&search::evaluate(&c, cfg), format, cfg));
            if format == ShowFormat::Json {
                out.push('\n');
            }
            emit(&out, ExitCode::SUCCESS)
        }
        Err(code) => code,
    }
}

fn cmd_find(id: &str, cfg: SearchConfig) -> ExitCode {
    let c = match lookup(id) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let judged: Vec<_> = c
        .readings
        .iter()
        .flat_map(|rd| {
            rd.judgements
                .iter()
                .map(move |j| (rd.key, rd.statement, j.domain, search::judge(j, cfg)))
        })
        .collect();
    emit(&report::find_text(&judged), ExitCode::SUCCESS)
}

fn cmd_model(command: ModelCommand) -> ExitCode {
    let result = match command {
        ModelCommand::Logits { run: r, bound } => transformer_laws::model_cli::logits(
            &r.path,
            r.config.as_deref(),
            &r.tokens,
            r.dtype,
            bound,
            r.linear(),
        ),
        ModelCommand::Report {
            run: r,
            format,
            no_bound,
        } => transformer_laws::model_cli::report(
            &r.path,
            r.config.as_deref(),
            &r.tokens,
            r.dtype,
            format,
            !no_bound,
            r.linear(),
        ),
        ModelCommand::Process {
            path,
            output,
            dtype,
            config,
        } => transformer_laws::model_cli::process(&path, config.as_deref(), &output, dtype),
    };
    match result {
        Ok(out) => emit(&out, ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("transformer-laws model: {e}");
            ExitCode::from(2)
        }
    }
}

fn cmd_compute(op: Op, dtype: Dtype) -> ExitCode {
    // A panic inside a line is turned into that line's error answer; keep stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let stdin = io::stdin().lock();
    let stdout = BufWriter::new(io::stdout().lock());
    match compute::run(op, dtype, stdin, stdout) {
        Ok(s) if s.failed == 0 => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!(
                "transformer-laws compute: {} of {} lines failed",
                s.failed, s.lines
            );
            ExitCode::from(1)
        }
        // The reader went away (e.g. `| head -1`): stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("transformer-laws compute: I/O error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "plot")]
fn cmd_plot(id: &str, output: Option<std::path::PathBuf>, cfg: SearchConfig) -> ExitCode {
    if let Err(code) = lookup(id) {
        return code;
    }
    let svg = match transformer_laws::plot::figure(id, cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("transformer-laws plot: {e}");
            return ExitCode::from(2);
        }
    };
    let path = output.unwrap_or_else(|| std::path::PathBuf::from(format!("figures/{id}.svg")));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(Err(e)) = dir.map(std::fs::create_dir_all) {
        eprintln!(
            "transformer-laws plot: cannot create the folder of {}: {e}",
            path.display()
        );
        return ExitCode::from(2);
    }
    match std::fs::write(&path, svg) {
        Ok(()) => emit(&format!("wrote {}\n", path.display()), ExitCode::SUCCESS),
        Err(e) => {
            eprintln!(
                "transformer-laws plot: cannot write {}: {e}",
                path.display()
            );
            ExitCode::from(2)
        }
    }
}
