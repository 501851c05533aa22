//! The `rtas` command line: parse, call the library, print a table or one JSON object. Every error a user
//! can cause ends as one line on stderr and exit code 2.

mod attack;
mod audit;
mod bound;
mod calibrate;
mod data;
mod demo;
mod deploy;
mod estimate;
mod import;
mod op;
mod output;
mod plan;
mod progress;
mod report;
mod simulate;
mod tables;

use clap::{Parser, Subcommand};

/// rtas: judge "random transformations" as a privacy tool. Bounds, protocols, attacks, charts.
#[derive(Debug, Parser)]
#[command(name = "rtas", version, about, long_about = None, allow_negative_numbers = true)]
pub struct Cli {
    /// Print one JSON object instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Ring products on this path (avx512, avx2, generic, f64-limbs) instead of the fastest measured one.
    #[arg(long, global = true, value_name = "PATH")]
    pub ring_path: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: every result as a chart (PNG and SVG) plus a Markdown report, on the bundled digits.
    Report(report::ReportArgs),
    /// A one-screen summary: the paper's claims beside what rtas computes and measures on the bundled digits.
    Demo(demo::DemoArgs),
    /// Attacks: what a curious party reconstructs from what it saw, scored against the bounds.
    #[command(subcommand)]
    Attack(attack::AttackCommand),
    /// The claims audit: each claim of the paper in its setting, every attack with its knowledge and interval, a verdict by rule.
    Audit(audit::AuditArgs),
    /// Closed-form reconstructive-privacy bounds (exact, in log10, far below f64's range).
    #[command(subcommand)]
    Bound(bound::BoundCommand),
    /// One secure primitive (matmul, mul, conv2d, sigmoid, relu) on random data: error, traffic, time.
    Op(op::OpArgs),
    /// What rtas builds from an ONNX export: layers, protocols that run it, every node's fate, the model file.
    Import(import::ImportArgs),
    /// Train and test a model (the paper's, or a model file) under plain, RTAS, RTAS-fast or mpc on MNIST or a table.
    Simulate(simulate::SimulateArgs),
    /// Bytes, rounds and modeled time of a model under each protocol per step, epoch and in total, without data.
    Plan(plan::PlanArgs),
    /// The paper's Tables 1-4 (one-batch time and traffic) with rtas's RTAS and RTAS-fast figures beside them.
    Tables(tables::TablesArgs),
    /// Monte Carlo estimates of epsilon by the optimal attacker, with 95% Clopper-Pearson intervals.
    #[command(subcommand)]
    Estimate(estimate::EstimateCommand),
    /// Make a project CA and one TLS key pair per role, for a deployment.
    Keys(deploy::KeysArgs),
    /// Run one role of a deployment as this process (parties.toml names the job, the peers, the keys).
    Party(deploy::PartyArgs),
    /// Run every role as its own process over mutual TLS on loopback; the simulate summary plus measured wall time.
    Launch(deploy::LaunchArgs),
    /// Round trips between P0 and P1 through the real transport (used by `launch --shape`).
    #[command(hide = true)]
    Probe(deploy::ProbeArgs),
    /// Time every exact path of the ring product on this host (integer kernels, f64 limbs); --save keeps the fastest.
    Calibrate(calibrate::CalibrateArgs),
}

/// Runs the command line `args` (including the program name); returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{}", e.render());
                return 0;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                eprint!("{}", e.render());
                return 2;
            }
            eprintln!("{}", one_line(&e.render().to_string()));
            return 2;
        }
    };
    if let Ok(path) = std::env::var("RTAS_RING_PATH")
        && !crate::protocol::kernel::paths().contains(&path.as_str())
    {
        let known = crate::protocol::kernel::paths().join(", ");
        eprintln!("error: RTAS_RING_PATH='{path}' is not available here (known: {known})");
        return 2;
    }
    if let Some(path) = &cli.ring_path
        && let Err(e) = crate::protocol::kernel::set_ring_path(path)
    {
        eprintln!("error: {e}");
        return 2;
    }
    let result = match cli.command {
        Command::Demo(args) => demo::run(args, cli.json),
        Command::Bound(cmd) => bound::run(cmd, cli.json),
        Command::Attack(cmd) => attack::run(cmd, cli.json),
        Command::Audit(args) => audit::run(args, cli.json),
        Command::Report(args) => report::run(args, cli.json),
        Command::Estimate(cmd) => estimate::run(cmd, cli.json),
        Command::Op(args) => op::run(args, cli.json),
        Command::Simulate(args) => simulate::run(args, cli.json),
        Command::Import(args) => import::run(args, cli.json),
        Command::Plan(args) => plan::run(args, cli.json),
        Command::Tables(args) => tables::run(args, cli.json),
        Command::Calibrate(args) => calibrate::run(args, cli.json),
        Command::Keys(args) => deploy::keys(args, cli.json),
        Command::Party(args) => deploy::party(args, cli.json),
        Command::Launch(args) => deploy::launch(args, cli.json),
        Command::Probe(args) => deploy::probe(args, cli.json),
    };
    match result {
        Ok(text) => {
            use std::io::Write;
            match writeln!(std::io::stdout().lock(), "{text}") {
                Ok(()) => 0,
                // A reader that stopped early (`| head`) is not an error of ours.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("error: cannot write the output: {e}");
                    2
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// clap's message up to its first blank line, joined into one line.
fn one_line(rendered: &str) -> String {
    rendered.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect::<Vec<_>>().join(" ")
}
