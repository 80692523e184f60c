//! Runs the interface in a terminal.

use crate::cli::output::CliError;
use crate::cli::Cli;

pub async fn interactive(_cli: &Cli) -> Result<(), CliError> {
    Err(CliError::usage("no command given; see `parla --help`"))
}
