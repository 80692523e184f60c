//! `parla ctl`: sends one request to a running instance over its control socket.

use super::output::CliError;
use super::CtlArgs;

pub async fn run(_args: &CtlArgs, _json: bool) -> Result<(), CliError> {
    Err(CliError::usage("parla ctl is not available yet"))
}
