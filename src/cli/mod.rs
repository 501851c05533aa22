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
pub use progress::watched as progress;
mod report;
mod simulate;
pub use simulate::Views;
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
    let result = match settings(&cli) {
        Ok(()) => dispatch(cli.command, cli.json),
        Err(line) => {
            eprintln!("error: {line}");
            return 2;
        }
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

/// The global settings of a command line (the ring path), or the one line saying why they cannot be used.
fn settings(cli: &Cli) -> std::result::Result<(), String> {
    if let Ok(path) = std::env::var("RTAS_RING_PATH")
        && !crate::protocol::kernel::paths().contains(&path.as_str())
    {
        let known = crate::protocol::kernel::paths().join(", ");
        return Err(format!("RTAS_RING_PATH='{path}' is not available here (known: {known})"));
    }
    if let Some(path) = &cli.ring_path {
        crate::protocol::kernel::set_ring_path(path).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs a parsed command; its output (a table, or one JSON object with `json`).
fn dispatch(command: Command, json: bool) -> crate::Result<String> {
    match command {
        Command::Demo(args) => demo::run(args, json),
        Command::Bound(cmd) => bound::run(cmd, json),
        Command::Attack(cmd) => attack::run(cmd, json),
        Command::Audit(args) => audit::run(args, json),
        Command::Report(args) => report::run(args, json),
        Command::Estimate(cmd) => estimate::run(cmd, json),
        Command::Op(args) => op::run(args, json),
        Command::Simulate(args) => simulate::run(args, json),
        Command::Import(args) => import::run(args, json),
        Command::Plan(args) => plan::run(args, json),
        Command::Tables(args) => tables::run(args, json),
        Command::Calibrate(args) => calibrate::run(args, json),
        Command::Keys(args) => deploy::keys(args, json),
        Command::Party(args) => deploy::party(args, json),
        Command::Launch(args) => deploy::launch(args, json),
        Command::Probe(args) => deploy::probe(args, json),
    }
}

/// Why a command run in-process ([`run_json`]) failed: the line the CLI would print after `error: `, and
/// whether the caller's input was at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, in one line.
    pub message: String,
    /// What kind of failure it is.
    pub kind: FailureKind,
}

/// The kinds of [`Failure`] (the CLI exits with code 2 on every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A flag, a value or an array the caller gave is wrong (unknown flag, zero, NaN, wrong size).
    Usage,
    /// A file could not be read or is not valid.
    Data,
    /// A numerical routine failed.
    Numerical,
    /// A protocol run failed (a party, a peer, the network).
    Protocol,
    /// The run was stopped by [`crate::cancel`].
    Cancelled,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: FailureKind::Usage }
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        let kind = match &e {
            E::InvalidArgument(_) => FailureKind::Usage,
            E::Io { .. } | E::Idx { .. } | E::Data { .. } => FailureKind::Data,
            E::Numerical(_) => FailureKind::Numerical,
            E::Cancelled => FailureKind::Cancelled,
            _ => FailureKind::Protocol,
        };
        Self { message: e.to_string(), kind }
    }
}

/// Data given in memory instead of by a file (the Python package's NumPy arrays): a table of features and
/// labels, used as `--data-file` would be (cut 80/20, standardized with `--standardize`), or train and test
/// sets used as given.
#[derive(Debug, Clone)]
pub enum InMemory {
    /// One table, split as `--data-file` is.
    Table(crate::data::table::Table),
    /// Train and test sets as given.
    Split(crate::data::table::Table, crate::data::table::Table),
}

impl InMemory {
    /// The one table of a command that reads rows without a train/test cut (most attacks).
    pub fn features_only(&self) -> crate::error::Result<&crate::data::table::Table> {
        match self {
            InMemory::Table(t) => data::finite(t).map(|()| t),
            InMemory::Split(..) => {
                Err(crate::error::invalid("this command reads one table: give data=X (or (X, y)), not test="))
            }
        }
    }
}

/// The flag in-memory data stands in for in the command line `args`: `--data-file` for `simulate` and the
/// attacks on a user's table, `--images-file` for pixel-permutation; `None` for commands that read no rows.
fn in_memory_flag(args: &[String]) -> Option<&'static str> {
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("simulate"), _) => Some("--data-file"),
        (Some("attack"), Some(name)) => attack::AttackCommand::in_memory_flag(name),
        _ => None,
    }
}

/// What a command run in-process printed: its JSON object, and the table the CLI prints without `--json`
/// (where the command draws one from the same result).
#[derive(Debug, Clone)]
pub struct Ran {
    /// The JSON object `rtas ARGS --json` prints.
    pub json: String,
    /// The text `rtas ARGS` prints, drawn from the same result (no second run).
    pub text: Option<String>,
    /// Every role's view of the run, when asked for (`simulate` of a secure protocol).
    pub views: Option<simulate::Views>,
}

/// Runs the command line `args` (without the program name) in this process with `--json` and returns its
/// JSON object, the same one `rtas ARGS --json` prints, and its table; `data` stands for `--data-file` where
/// the command reads a user's rows (`simulate`, the attacks of [`attack::AttackCommand::in_memory_flag`]);
/// `views` keeps every role's view of a simulated secure run. For callers
/// that are not a terminal (the Python package).
pub fn run_json(args: &[String], data: Option<InMemory>, views: bool) -> std::result::Result<Ran, Failure> {
    if data.is_some()
        && args.iter().any(|a| ["--data-file", "--data", "--label", "--images-file"].contains(&a.as_str()))
    {
        return Err(Failure::usage("give the data either in memory or by --data, --data-file and --label, not both"));
    }
    // In-memory data stands where `--data-file` (or `--images-file`) would: the flags that go with it,
    // `--standardize`, need it.
    let stand_in = match (&data, in_memory_flag(args)) {
        (None, _) => None,
        (Some(_), Some(flag)) => Some([flag.to_string(), "(arrays in memory)".to_string()]),
        (Some(_), None) => {
            return Err(Failure::usage(
                "in-memory data goes with simulate and the attacks known-plaintext, known-sample, decoder, linking \
                 and pixel-permutation",
            ));
        }
    };
    let argv = std::iter::once("rtas".to_string())
        .chain(args.iter().cloned())
        .chain(stand_in.into_iter().flatten())
        .chain(["--json".to_string()]);
    crate::cancel::clear();
    progress::watch();
    let cli = Cli::try_parse_from(argv)
        .map_err(|e| Failure::usage(one_line(&e.render().to_string()).trim_start_matches("error: ").to_string()))?;
    settings(&cli).map_err(Failure::usage)?;
    let command = match (cli.command, data) {
        (Command::Simulate(mut a), d) => {
            a.table.in_memory = d.map(Box::new);
            a.keep_views = views;
            Command::Simulate(a)
        }
        _ if views => return Err(Failure::usage("views come from simulate only")),
        (Command::Attack(mut c), Some(d)) => {
            c.take_in_memory(d)?;
            Command::Attack(c)
        }
        // Not reached: the stand-in flag above is given to these commands only, and clap refuses it elsewhere.
        (_, Some(_)) => return Err(Failure::usage("in-memory data goes with simulate and the attacks on rows")),
        (c, None) => c,
    };
    output::capture_tables();
    let json = dispatch(command, true);
    let tables = output::captured_tables();
    let views = simulate::take_views();
    Ok(Ran { json: json?, text: (tables.len() == 1).then(|| tables.concat()), views })
}

/// clap's message up to its first blank line, joined into one line.
fn one_line(rendered: &str) -> String {
    rendered.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect::<Vec<_>>().join(" ")
}
