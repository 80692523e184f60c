//! Man pages: `parla.1` with the global options, EXIT STATUS, ENVIRONMENT and FILES; one
//! page per subcommand with its own options only (the global ones are in `parla(1)`).

use std::io::Write;
use std::path::Path;

/// Roff for the sections clap has no place for, on the main page.
const MAIN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
success
.TP
\fB1\fR
any other failure (I/O, an unexpected answer from the server)
.TP
\fB2\fR
usage or configuration: a bad argument, a broken config file, no token configured
.TP
\fB3\fR
authentication: credentials the server refused (access_token_expired, access_token_invalid, api_key_invalid, ...)
.TP
\fB4\fR
the server (or, for \fBparla ctl\fR, the instance) cannot be reached
.TP
\fB5\fR
not found or rejected (user_not_found, channel_not_exists, validation_error, ...)
.PP
Errors go to standard error as \fBparla: error[CODE]: message\fR, or with \fB\-\-json\fR as
{"error":{"code":...,"message":...}}.
.SH ENVIRONMENT
.TP
\fBPARLA_SERVER\fR, \fBPARLA_TOKEN\fR, \fBPARLA_TOKEN_CMD\fR, \fBPARLA_API_KEY\fR, \fBPARLA_CA_FILE\fR, \fBPARLA_PROFILE\fR, \fBPARLA_CONFIG\fR
stand in for the options of the same name.
.TP
\fBPARLA_CTL_SOCKET\fR
the control socket \fBparla ctl\fR talks to.
.TP
\fBPARLA_LOG\fR
the log filter (default \fBinfo\fR); logs go to a file, never to the terminal.
.TP
\fBNO_COLOR\fR
set to anything: the interface draws without colours (reverse video and bold mark the
selection and the focus).
.TP
\fBLC_ALL\fR, \fBLC_MESSAGES\fR, \fBLANG\fR
the interface's language when the config file names none.
.TP
\fBXDG_CONFIG_HOME\fR, \fBXDG_DATA_HOME\fR, \fBXDG_RUNTIME_DIR\fR
where the files below live.
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/parla/config.toml\fR
settings and profiles (\fBparla config path\fR prints where; \fBparla config check\fR checks it).
.TP
\fI$XDG_CONFIG_HOME/parla/keymap.toml\fR, \fI$XDG_CONFIG_HOME/parla/theme.toml\fR
key bindings and colours over the built-in ones.
.TP
\fI$XDG_DATA_HOME/parla/logs/\fR
log files.
.TP
\fI$XDG_DATA_HOME/parla/device/\fR
this installation's device id.
.TP
\fI$XDG_RUNTIME_DIR/parla/ctl.sock\fR
the control socket of a running interface or \fBparla answer\fR (mode 0600); without
XDG_RUNTIME_DIR, \fIctl.sock\fR in the data directory, else \fI/tmp/parla\-$USER/ctl.sock\fR.
A second interface takes \fIctl\-PID.sock\fR beside it.
.TP
\fI$XDG_RUNTIME_DIR/parla/demo.env\fR
what \fBparla demo env\fR prints while a demo runs.
.SH "SEE ALSO"
\fBparla\-serve\fR(1), \fBparla\-ctl\fR(1), \fBparla\-demo\fR(1); docs/interface.md and
docs/protocol.md in the source tree.
"#;

/// The closing section of a subcommand's page.
const SUB_SECTIONS: &str = r#".SH "SEE ALSO"
\fBparla\fR(1) for the global options (\-\-server, \-\-token, \-\-json, ...), the exit
status, the environment and the files.
"#;

fn page(cmd: &clap::Command, main: bool, out: &mut impl Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if cmd.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    if main {
        man.render_version_section(out)?;
    }
    out.write_all(if main { MAIN_SECTIONS } else { SUB_SECTIONS }.as_bytes())
}

/// One page for `cmd` (named `name`) and each of its subcommands, below.
fn pages(cmd: &clap::Command, name: &str, globals: &[clap::Id], dir: &Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_name = format!("{name}-{}", sub.get_name());
        // The global options belong to parla(1).
        let own = sub.clone().mut_args(|a| {
            if globals.contains(a.get_id()) {
                a.hide(true)
            } else {
                a
            }
        });
        let mut out = Vec::new();
        page(&own, false, &mut out)?;
        std::fs::write(dir.join(format!("{sub_name}.1")), out)?;
        pages(sub, &sub_name, globals, dir)?;
    }
    Ok(())
}

/// Writes `parla.1` and one page per subcommand into `dir`.
pub fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut root = super::command().after_long_help(None::<&str>);
    root.build();
    let globals: Vec<clap::Id> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    let mut out = Vec::new();
    page(&root, true, &mut out)?;
    std::fs::write(dir.join("parla.1"), out)?;
    pages(&root, "parla", &globals, dir)
}
