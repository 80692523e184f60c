//! The command line: clap definitions (also the source of the man pages and completions)
//! and the non-interactive subcommands.

pub mod call;
pub mod complete;
pub mod config;
mod config_check;
pub mod ctl;
pub mod demo;
mod history;
mod join;
mod man;
pub mod output;
mod people;
pub mod run;
mod status;
mod voicemail;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::proto::{Activity, Availability};

pub const EXIT_STATUS_HELP: &str = "\
EXIT STATUS:
  0  success
  1  any other failure (I/O, unexpected server answer)
  2  usage error (bad arguments or configuration)
  3  authentication failed (access_token_expired, access_token_invalid, api_key_invalid, ...)
  4  server unreachable
  5  not found or rejected (user_not_found, channel_not_exists, validation_error, ...)

Errors go to standard error as `parla: error[CODE]: message`, or with --json as
{\"error\":{\"code\":..,\"message\":..}}.

ENVIRONMENT:
  PARLA_SERVER, PARLA_TOKEN, PARLA_TOKEN_CMD, PARLA_API_KEY, PARLA_PROFILE, PARLA_CONFIG
  stand in for the options of the same name. PARLA_LOG sets the log filter (default info);
  logs go to a file under the data directory, never to the terminal.";

#[derive(Debug, Parser)]
#[command(
    name = "parla",
    version,
    about = "Terminal softphone and chat client, and the server it talks to",
    long_about = "parla is a terminal chat and voice client with its own self-hosted server. \
Without a subcommand it opens the terminal interface. Every action is also a \
non-interactive subcommand with JSON output (--json) and stable exit codes, for scripts \
and ssh sessions; `parla ctl` drives a running interface.",
    after_long_help = EXIT_STATUS_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// Server address, e.g. http://127.0.0.1:7340
    #[arg(long, global = true, env = "PARLA_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Access token (a JWT from `parla admin token`)
    #[arg(long, global = true, env = "PARLA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Shell command that prints a fresh access token; run again whenever one is needed
    #[arg(long, global = true, env = "PARLA_TOKEN_CMD", value_name = "COMMAND")]
    pub token_cmd: Option<String>,
    /// Admin API key (admin commands; for `serve`, the key the server accepts, at least 16
    /// characters)
    #[arg(long, global = true, env = "PARLA_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Extra certificate authorities (PEM) to trust for an https:// server, for a
    /// self-signed or private certificate
    #[arg(long, global = true, env = "PARLA_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Machine-readable output: JSON (NDJSON for streams)
    #[arg(long, global = true)]
    pub json: bool,
    /// Named profile from the config file
    #[arg(long, short = 'p', global = true, env = "PARLA_PROFILE")]
    pub profile: Option<String>,
    /// Config file (default: config.toml in the user config directory)
    #[arg(long, global = true, env = "PARLA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Record the terminal interface to this file as an asciicast v2 recording
    #[arg(long, global = true, value_name = "FILE.cast")]
    pub record_cast: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (REST + WebSocket, SQLite storage)
    Serve(ServeArgs),
    /// Start a local server with demo users and bots, and open the interface as `you`
    Demo(DemoArgs),
    /// Administration with the API key: users and access tokens
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// List users with their presence, or search the directory
    Users {
        /// Only users who are online (or busy)
        #[arg(long, conflicts_with = "search")]
        online: bool,
        /// Search the directory: users whose name (or the field --by names) has TEXT
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// What --search matches: name (first, last or display), first_name, last_name,
        /// user_name, user_id or phone_number
        #[arg(long, value_name = "FIELD", requires = "search", default_value = "name",
              value_parser = people::parse_search_field)]
        by: crate::proto::SearchField,
        /// How many users a search lists (1-200)
        #[arg(long, short = 'n', default_value_t = 50, requires = "search",
              value_parser = clap::value_parser!(u32).range(1..=200))]
        count: u32,
        /// The next page of a search: users after this one (printed as `more: --after`)
        #[arg(long, value_name = "USER", requires = "search")]
        after: Option<String>,
    },
    /// Your profile (or a user's), or change yours: names, user name, email, phones
    Profile {
        #[command(subcommand)]
        action: Option<people::ProfileAction>,
    },
    /// Your address book: list (the default), add, update, remove contacts
    Contacts {
        #[command(subcommand)]
        action: Option<people::ContactAction>,
    },
    /// Your presence (or a user's), or set what it says: available, away, busy or
    /// do_not_disturb (dnd), an activity and a note
    Status {
        #[command(subcommand)]
        action: Option<StatusAction>,
    },
    /// List your channels with unread counts
    Channels,
    /// Your call history, newest first (missed calls marked); or mark them seen, delete
    Calls {
        #[command(subcommand)]
        action: Option<CallsAction>,
        /// Only missed calls
        #[arg(long)]
        missed: bool,
        /// How many (1-500)
        #[arg(long, short = 'n', default_value_t = 20,
              value_parser = clap::value_parser!(u32).range(1..=500))]
        count: u32,
        /// Calls older than this entry (its `seq`)
        #[arg(long, value_name = "SEQ")]
        before: Option<u64>,
    },
    /// Voice messages left for you: list them (the default), play, save, mark heard, delete
    Voicemail {
        #[command(subcommand)]
        action: Option<VoicemailAction>,
    },
    /// Create a group channel with a name and its members (you are one)
    Group {
        /// The group's name (send to it as #NAME)
        name: String,
        /// User ids of the other members
        #[arg(required = true, value_name = "USER", add = complete::users())]
        members: Vec<String>,
    },
    /// Send a message to a user (their direct channel), a channel id, or #group-name
    Send {
        /// User id, channel id (ch_...) or #group-name
        #[arg(value_name = "PEER_OR_CHANNEL", add = complete::conversations())]
        target: String,
        /// The text; `-` reads it from standard input
        text: String,
    },
    /// Show messages of a conversation, oldest first
    History {
        /// User id, channel id (ch_...) or #group-name
        #[arg(value_name = "PEER_OR_CHANNEL", add = complete::conversations())]
        target: String,
        /// How many messages (1-500)
        #[arg(long, short = 'n', default_value_t = 20,
              value_parser = clap::value_parser!(u32).range(1..=500))]
        count: u32,
        /// Messages older than this sequence number
        #[arg(long, value_name = "SEQ", conflicts_with = "after")]
        before: Option<u64>,
        /// Messages newer than this sequence number
        #[arg(long, value_name = "SEQ")]
        after: Option<u64>,
        /// Only messages containing TEXT (A-Z match either case), the newest first found;
        /// with --before, older matches
        #[arg(long, value_name = "TEXT", conflicts_with = "after")]
        search: Option<String>,
    },
    /// Mark a conversation read up to a sequence number (default: all of it)
    Read {
        #[arg(value_name = "PEER_OR_CHANNEL", add = complete::conversations())]
        target: String,
        #[arg(long, value_name = "SEQ")]
        seq: Option<u64>,
    },
    /// Stream events (messages, presence, connection state, calls) until interrupted
    Watch,
    /// Call one to three users and stay in the call until it ends
    ///
    /// Exits 0 when the call was answered, 5 when it was not (declined, timeout, busy).
    Call {
        /// Who to call
        #[arg(value_name = "USER", required = true, num_args = 1..=3, add = complete::users())]
        users: Vec<String>,
        /// DTMF digits to send once connected (0-9 * # A-D; `,` pauses 2 s)
        #[arg(long, value_name = "DIGITS")]
        dtmf: Option<String>,
        /// When the call is not answered (or the person is offline: then it is not left
        /// ringing), leave this WAV file as a voice message (up to 120 s)
        #[arg(long, value_name = "FILE.wav")]
        voicemail: Option<PathBuf>,
        #[command(flatten)]
        media: MediaArgs,
    },
    /// Join a call by its access link (`parla link`, or a link someone sent you): as a
    /// guest, with no account or configuration needed
    Join {
        /// The link (`http(s)://SERVER/join/TOKEN`)
        link: String,
        /// Your name, as the call shows it (default: Guest)
        #[arg(long, value_name = "NAME", conflicts_with = "as_user")]
        name: Option<String>,
        /// The link was made for you: join as your configured user, with your token
        #[arg(long)]
        as_user: bool,
        #[command(flatten)]
        media: MediaArgs,
    },
    /// Make an access link to a call you are in: whoever opens it joins the call (in a
    /// browser, or with `parla join`) until it ends
    Link {
        /// The call (its room id, as `parla call --json` and `parla ctl status` show it)
        room_id: String,
        /// Only this user may use it (with their own token); otherwise anyone, as a guest
        #[arg(long = "for", value_name = "USER", add = complete::users())]
        for_user: Option<String>,
    },
    /// Wait for an incoming call and answer it
    Answer {
        /// Keep answering calls, one after another, until interrupted
        #[arg(long)]
        auto: bool,
        /// DTMF digits to send once connected
        #[arg(long, value_name = "DIGITS")]
        dtmf: Option<String>,
        #[command(flatten)]
        media: MediaArgs,
    },
    /// List the audio devices calls can use with `--audio device`
    Devices,
    /// Drive a running `parla` interface or `parla answer` over its control socket
    Ctl(CtlArgs),
    /// Show which config file is used, or check it
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script (it completes user ids and #groups from the server)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages into a directory
    #[command(hide = true)]
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// Where a call's audio comes from and goes.
#[derive(Debug, Args)]
pub struct MediaArgs {
    /// Play this WAV file into the call (any rate, mono or stereo)
    #[arg(long, value_name = "FILE.wav", conflicts_with = "tone")]
    pub play: Option<PathBuf>,
    /// Send a sine tone of this frequency
    #[arg(long, value_name = "HZ")]
    pub tone: Option<f64>,
    /// Record the call to a WAV file: 48 kHz stereo, you left, the other side right
    #[arg(long, value_name = "FILE.wav")]
    pub record: Option<PathBuf>,
    /// Audio backend: file (the --play/--tone/--record options), null, or device
    #[arg(long, value_name = "BACKEND", value_parser = ["file", "null", "device"])]
    pub audio: Option<String>,
    /// Input device for `--audio device` (id or part of its name; default device otherwise)
    #[arg(long, value_name = "NAME")]
    pub input: Option<String>,
    /// Output device for `--audio device`
    #[arg(long, value_name = "NAME")]
    pub output: Option<String>,
    /// Hang up this many seconds after the call connects
    #[arg(long, value_name = "S")]
    pub hangup_after: Option<f64>,
    /// Length of each DTMF tone, in milliseconds
    #[arg(long, default_value_t = 120, value_name = "MS")]
    pub dtmf_duration: u64,
    /// Silence between DTMF tones, in milliseconds
    #[arg(long, default_value_t = 80, value_name = "MS")]
    pub dtmf_gap: u64,
    /// Send DTMF as in-band tones even when the other side takes RFC 4733 events
    #[arg(long)]
    pub dtmf_inband: bool,
    /// Local address for media sockets
    #[arg(long, default_value = "0.0.0.0:0", value_name = "ADDR")]
    pub bind: String,
    /// DSCP of media packets: 46 (Expedited Forwarding) by default, 0 for none
    #[arg(long, default_value_t = 46, value_name = "N",
          value_parser = clap::value_parser!(u8).range(0..=63))]
    pub dscp: u8,
    /// Print call statistics (RTT, loss, jitter, bitrate, levels, MOS) every S seconds
    #[arg(long, value_name = "S")]
    pub stats_every: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:7340", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Data directory (default: `server` under the user data directory)
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Seconds before token expiry at which sessions are warned
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub token_warning: u64,
    /// Megabytes of voice messages kept per user
    #[arg(long, default_value_t = 16, value_name = "MB",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub voicemail_quota: u64,
    /// STUN server URL handed to clients for calls (repeatable)
    #[arg(long, value_name = "URL")]
    pub stun: Vec<String>,
    /// TURN server URL handed to clients with time-limited credentials (repeatable)
    #[arg(long, value_name = "URL", requires = "turn_secret")]
    pub turn: Vec<String>,
    /// Secret shared with the TURN server (coturn's static-auth-secret)
    #[arg(
        long,
        env = "PARLA_TURN_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub turn_secret: Option<String>,
    /// Lifetime of TURN credentials, in seconds
    #[arg(long, default_value_t = 86_400, value_name = "S")]
    pub turn_ttl: u64,
    /// Certificate chain (PEM) to serve HTTPS and WSS with; needs --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Address of a reverse proxy whose X-Forwarded-For names the client (repeatable)
    #[arg(long, value_name = "IP")]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// A web origin (https://chat.example.org) whose pages may call the REST API (CORS;
    /// repeatable; with the config file's server.cors_origins)
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,
    /// Seconds a device in a call may stay disconnected before it leaves the call
    /// (end reason connection_lost)
    #[arg(long, value_name = "SECONDS", default_value_t = crate::proto::CALL_GRACE_S)]
    pub call_grace: u64,
    /// Change a rate limit: messages, dials, signals or frames, as NAME=PER_SECOND/BURST
    /// or NAME=off (repeatable)
    #[arg(long, value_name = "NAME=RATE/BURST", value_parser = parse_limit)]
    pub limit: Vec<(String, crate::server::limits::Rate)>,
}

/// Parses `--limit NAME=PER_SECOND/BURST` (or `NAME=off`).
fn parse_limit(s: &str) -> Result<(String, crate::server::limits::Rate), String> {
    use crate::server::limits::Rate;
    let (name, value) = s
        .split_once('=')
        .ok_or("expected NAME=PER_SECOND/BURST, e.g. messages=10/50")?;
    if !matches!(name, "messages" | "dials" | "signals" | "frames") {
        return Err(format!(
            "unknown limit `{name}`; the limits are messages, dials, signals and frames"
        ));
    }
    if value == "off" {
        return Ok((name.to_owned(), Rate::unlimited()));
    }
    let (rate, burst) = value
        .split_once('/')
        .ok_or("expected PER_SECOND/BURST, e.g. 10/50, or off")?;
    let rate: f64 = rate
        .parse()
        .ok()
        .filter(|r: &f64| r.is_finite() && *r > 0.0)
        .ok_or("the rate is a number of requests per second above 0")?;
    let burst: u32 = burst
        .parse()
        .ok()
        .filter(|b| *b >= 1)
        .ok_or("the burst is a whole number of requests, at least 1")?;
    Ok((name.to_owned(), Rate::new(rate, burst)))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Keep the demo data in this directory instead of a temporary one
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Set up, print the instructions and exit instead of serving until interrupted
    #[arg(long)]
    pub no_wait: bool,
    /// Local address for the bots' media sockets
    #[arg(long, default_value = "0.0.0.0:0", value_name = "ADDR")]
    pub media_bind: String,
    /// Play a scripted tour (keys with delays) in a headless interface instead of opening
    /// one; with --record-cast this records the demo
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Terminal size of the headless interface, COLSxROWS
    #[arg(long, default_value = "100x30", value_name = "COLSxROWS")]
    pub size: String,
    /// Seconds after you come online before Carol calls you (0: at once)
    #[arg(long, default_value_t = 15.0, value_name = "S")]
    pub call_after: f64,
    #[command(subcommand)]
    pub command: Option<DemoCommand>,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Print the shell settings that script against the running demo:
    /// eval "$(parla demo env)"
    Env,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config, keymap and theme files parla reads, and whether each exists
    Path,
    /// Load the config, keymap and theme files and report every error with its line
    Check,
}

/// `parla ctl`: one request to a running instance, or its event stream.
#[derive(Debug, Args)]
pub struct CtlArgs {
    /// Control socket (default: the one a running interface or `parla answer` opened)
    #[arg(long, value_name = "PATH", env = "PARLA_CTL_SOCKET")]
    pub socket: Option<PathBuf>,
    #[command(subcommand)]
    pub command: CtlCommand,
}

#[derive(Debug, Subcommand)]
pub enum CallsAction {
    /// Mark the missed calls seen
    Seen,
    /// Delete one call from the history
    Rm {
        #[arg(value_name = "ROOM_ID")]
        room_id: String,
    },
    /// Delete the whole call history
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum StatusAction {
    /// Show your presence, or a user's
    Show {
        #[arg(value_name = "USER")]
        user: Option<String>,
    },
    /// Set your availability, with an activity and a note (left out: cleared)
    ///
    /// Do not disturb declines calls with `do_not_disturb` without ringing.
    Set {
        /// available, away, busy or do_not_disturb (dnd)
        #[arg(value_parser = parse_availability)]
        availability: Availability,
        /// on_the_phone, meeting, lunch, travelling, vacation or other
        #[arg(long, value_parser = parse_activity)]
        activity: Option<Activity>,
        /// Free text shown beside it (up to 140 characters)
        #[arg(long)]
        note: Option<String>,
    },
}

fn parse_availability(s: &str) -> Result<Availability, String> {
    let s = s.trim().to_ascii_lowercase().replace('-', "_");
    match s.as_str() {
        "dnd" => Ok(Availability::DoNotDisturb),
        _ => Availability::parse(&s)
            .ok_or_else(|| "expected available, away, busy or do_not_disturb (dnd)".to_owned()),
    }
}

fn parse_activity(s: &str) -> Result<Activity, String> {
    let s = s.trim().to_ascii_lowercase().replace('-', "_");
    Activity::parse(&s).ok_or_else(|| {
        "expected on_the_phone, meeting, lunch, travelling, vacation or other".to_owned()
    })
}

#[derive(Debug, Subcommand)]
pub enum VoicemailAction {
    /// List the voice messages, newest first, with the unheard count
    List,
    /// Play one on the sound card, then mark it heard
    Play {
        #[arg(value_name = "VOICEMAIL_ID")]
        id: String,
        /// Output device (id or part of its name; see `parla devices`)
        #[arg(long, value_name = "DEVICE")]
        output: Option<String>,
        /// Leave it marked unheard
        #[arg(long)]
        keep_unheard: bool,
    },
    /// Save one to a file: `.wav` decodes it, anything else keeps the Ogg Opus file
    Save {
        #[arg(value_name = "VOICEMAIL_ID")]
        id: String,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Mark one heard
    Heard {
        #[arg(value_name = "VOICEMAIL_ID")]
        id: String,
    },
    /// Delete one
    Rm {
        #[arg(value_name = "VOICEMAIL_ID")]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// Print the instance's state: user, connection, calls, audio
    Status,
    /// Stream the instance's events as JSON lines until interrupted
    Events,
    /// Call one to three users
    Dial {
        #[arg(value_name = "USER", required = true, num_args = 1..=3, add = complete::users())]
        users: Vec<String>,
    },
    /// Answer the ringing call (or the one named)
    Answer { room_id: Option<String> },
    /// Decline the ringing call (or the one named)
    Decline {
        room_id: Option<String>,
        /// none, error, do_not_disturb or no_answer
        #[arg(long, default_value = "none")]
        reason: String,
    },
    /// Hang up the current call (or the one named)
    Hangup { room_id: Option<String> },
    /// Put the current call on hold
    Hold { room_id: Option<String> },
    /// Take the current call off hold
    Resume { room_id: Option<String> },
    /// Stop the ringing call ringing here (the caller is not told)
    Ignore { room_id: Option<String> },
    /// Have the ringing call ring for another user instead
    Forward {
        #[arg(value_name = "USER", add = complete::users())]
        to: String,
        #[arg(long, value_name = "ROOM_ID")]
        room_id: Option<String>,
    },
    /// Hand the current call over to another user (held first; you leave it)
    Transfer {
        #[arg(value_name = "USER", add = complete::users())]
        to: String,
        #[arg(long, value_name = "ROOM_ID")]
        room_id: Option<String>,
    },
    /// Join the current call with your other call into one call of everyone (both are
    /// held first; the joined call is resumed)
    Join {
        #[arg(long, value_name = "ROOM_ID")]
        room_id: Option<String>,
        /// The other call (default: the one that is not current)
        #[arg(long, value_name = "ROOM_ID")]
        with_room: Option<String>,
    },
    /// Connect the other parties of your two calls with each other and leave both (a
    /// consultative transfer; both are held first)
    Connect {
        #[arg(long, value_name = "ROOM_ID")]
        room_id: Option<String>,
        /// The other call (default: the one that is not current)
        #[arg(long, value_name = "ROOM_ID")]
        with_room: Option<String>,
    },
    /// Make an access link to the current call, for guests (or only for --for USER);
    /// prints the address to hand out
    Link {
        #[arg(long, value_name = "ROOM_ID")]
        room_id: Option<String>,
        #[arg(long = "for", value_name = "USER", add = complete::users())]
        for_user: Option<String>,
    },
    /// Mute the microphone
    Mute,
    /// Unmute the microphone
    Unmute,
    /// Send DTMF digits in the current call (0-9 * # A-D; `,` pauses 2 s)
    Dtmf { digits: String },
    /// Send a chat message to a user, channel id or #group-name
    Send {
        #[arg(value_name = "PEER_OR_CHANNEL", add = complete::conversations())]
        target: String,
        text: String,
    },
    /// Set your presence: available, away, busy or do_not_disturb (dnd), with an
    /// activity and a note (the whole setting is replaced)
    Presence {
        #[arg(value_name = "AVAILABILITY")]
        availability: String,
        /// on_the_phone, meeting, lunch, travelling, vacation or other
        #[arg(long, value_name = "ACTIVITY")]
        activity: Option<String>,
        /// Free text shown beside your status (at most 140 characters)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Issue an access token for a user
    Token {
        #[arg(value_name = "ID")]
        user_id: String,
        /// Lifetime in seconds (360-86400)
        #[arg(long, default_value_t = 3600, value_name = "S")]
        expires_in: u64,
    },
    /// Save a consistent copy of the server's whole database while it runs
    Backup {
        /// Where to write it (written whole or not at all)
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Put a backup in place as the server's database (with the server stopped); the
    /// database it replaces is kept beside it
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The server's data directory (default: `server` under the user data directory)
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user
    Add {
        #[arg(value_name = "ID")]
        user_id: String,
        /// Display name (default: the id)
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete a user; their live sessions are disconnected
    Rm {
        #[arg(value_name = "ID")]
        user_id: String,
    },
    /// List every user
    List,
    /// Change a user's profile: only the fields given change, an empty value clears one
    Profile {
        #[arg(value_name = "ID")]
        user_id: String,
        /// The name everyone sees
        #[arg(long, value_name = "NAME")]
        display_name: Option<String>,
        #[command(flatten)]
        fields: people::ProfileFields,
    },
}

/// The clap command tree, for man pages and completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

pub use man::write_man_pages;

/// Writes the completion scripts for bash, zsh and fish into `dir` (each registers `parla`
/// as its own completer, see [`complete`]).
pub fn write_completions(dir: &std::path::Path) -> std::io::Result<()> {
    use clap_complete::Shell;
    std::fs::create_dir_all(dir)?;
    for (shell, file) in [
        (Shell::Bash, "parla.bash"),
        (Shell::Zsh, "_parla"),
        (Shell::Fish, "parla.fish"),
    ] {
        let mut out = std::fs::File::create(dir.join(file))?;
        complete::write_registration(shell, &mut out)?;
    }
    Ok(())
}
