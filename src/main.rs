//! The `parla` binary: parses the command line, sets up logging to a file and runs.

use clap::Parser;
use parla::cli::{config, run, Cli, Command};
use tracing_subscriber::EnvFilter;

fn init_logging(cli: &Cli) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let name = match cli.command {
        Some(Command::Serve(_)) => "server.log",
        Some(Command::Demo(_)) => "demo.log",
        _ => "client.log",
    };
    let dir = config::log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("PARLA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// A command line clap refused: its own text (help and version included), or with
/// `--json` the error as JSON on standard error; usage errors exit with 2.
fn parse_error(e: &clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json = std::env::args().any(|a| a == "--json");
    if informational || !json {
        let _ = e.print();
        return std::process::ExitCode::from(
            if informational && e.kind() != ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                0
            } else {
                2
            },
        );
    }
    // clap's message without its "error: " lead and its usage footer.
    let text = e.render().to_string();
    let message = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned();
    parla::cli::output::print_error(&parla::cli::output::CliError::usage(message), true);
    std::process::ExitCode::from(2)
}

fn main() -> std::process::ExitCode {
    // The shell asking for completions (COMPLETE set) is answered before anything else.
    parla::cli::complete::answer_shell();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_error(&e),
    };
    let _guard = init_logging(&cli);
    // The server takes a worker per core; a client, with its calls, one (client::runtime).
    let runtime = match cli.command {
        Some(Command::Serve(_)) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        _ => parla::client::runtime::runtime(),
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("parla: error[io_error]: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run::run(cli));
    std::process::ExitCode::from(code)
}
