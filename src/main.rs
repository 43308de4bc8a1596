//! The `transformer-laws` command line. It only parses arguments and prints; the work is in
//! the library.

use clap::{Parser, Subcommand};
use std::io::{self, BufWriter};
use std::process::ExitCode;
use transformer_laws::compute::{self, Dtype, Op};

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

#[derive(Subcommand)]
enum Command {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compute { op, dtype } => run_compute(op, dtype),
    }
}

fn run_compute(op: Op, dtype: Dtype) -> ExitCode {
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
