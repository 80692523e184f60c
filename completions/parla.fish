# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_parla_global_optspecs
    string join \n server= token= token-cmd= api-key= ca-file= json p/profile= config= record-cast= h/help V/version
end

function __fish_parla_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_parla_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_parla_using_subcommand
    set -l cmd (__fish_parla_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c parla -n "__fish_parla_needs_command" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_needs_command" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_needs_command" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_needs_command" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_needs_command" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_needs_command" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_needs_command" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_needs_command" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_needs_command" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c parla -n "__fish_parla_needs_command" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_needs_command" -f -a "serve" -d 'Run the server (REST + WebSocket, SQLite storage)'
complete -c parla -n "__fish_parla_needs_command" -f -a "demo" -d 'Start a local server with demo users and bots, and open the interface as `you`'
complete -c parla -n "__fish_parla_needs_command" -f -a "admin" -d 'Administration with the API key: users and access tokens'
complete -c parla -n "__fish_parla_needs_command" -f -a "users" -d 'List users with their presence'
complete -c parla -n "__fish_parla_needs_command" -f -a "channels" -d 'List your channels with unread counts'
complete -c parla -n "__fish_parla_needs_command" -f -a "group" -d 'Create a group channel with a name and its members (you are one)'
complete -c parla -n "__fish_parla_needs_command" -f -a "send" -d 'Send a message to a user (their direct channel), a channel id, or #group-name'
complete -c parla -n "__fish_parla_needs_command" -f -a "history" -d 'Show messages of a conversation, oldest first'
complete -c parla -n "__fish_parla_needs_command" -f -a "read" -d 'Mark a conversation read up to a sequence number (default: all of it)'
complete -c parla -n "__fish_parla_needs_command" -f -a "watch" -d 'Stream events (messages, presence, connection state, calls) until interrupted'
complete -c parla -n "__fish_parla_needs_command" -f -a "call" -d 'Call one to three users and stay in the call until it ends'
complete -c parla -n "__fish_parla_needs_command" -f -a "answer" -d 'Wait for an incoming call and answer it'
complete -c parla -n "__fish_parla_needs_command" -f -a "devices" -d 'List the audio devices calls can use with `--audio device`'
complete -c parla -n "__fish_parla_needs_command" -f -a "ctl" -d 'Drive a running `parla` interface or `parla answer` over its control socket'
complete -c parla -n "__fish_parla_needs_command" -f -a "config" -d 'Show which config file is used, or check it'
complete -c parla -n "__fish_parla_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c parla -n "__fish_parla_needs_command" -f -a "man" -d 'Write the man pages into a directory'
complete -c parla -n "__fish_parla_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand serve" -l listen -d 'Address to listen on' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l data -d 'Data directory (default: `server` under the user data directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand serve" -l token-warning -d 'Seconds before token expiry at which sessions are warned' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l stun -d 'STUN server URL handed to clients for calls (repeatable)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l turn -d 'TURN server URL handed to clients with time-limited credentials (repeatable)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l turn-secret -d 'Secret shared with the TURN server (coturn\'s static-auth-secret)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l turn-ttl -d 'Lifetime of TURN credentials, in seconds' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l tls-cert -d 'Certificate chain (PEM) to serve HTTPS and WSS with; needs --tls-key' -r -F
complete -c parla -n "__fish_parla_using_subcommand serve" -l tls-key -d 'Private key (PEM) of --tls-cert' -r -F
complete -c parla -n "__fish_parla_using_subcommand serve" -l trusted-proxy -d 'Address of a reverse proxy whose X-Forwarded-For names the client (repeatable)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l cors-origin -d 'A web origin (https://chat.example.org) whose pages may call the REST API (CORS; repeatable; with the config file\'s server.cors_origins)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l call-grace -d 'Seconds a device in a call may stay disconnected before it leaves the call (end reason connection_lost)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l limit -d 'Change a rate limit: messages, dials, signals or frames, as NAME=PER_SECOND/BURST or NAME=off (repeatable)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand serve" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand serve" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand serve" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand serve" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand serve" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand serve" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l listen -d 'Address to listen on (port 0 picks a free one)' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l data -d 'Keep the demo data in this directory instead of a temporary one' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l media-bind -d 'Local address for the bots\' media sockets' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l script -d 'Play a scripted tour (keys with delays) in a headless interface instead of opening one; with --record-cast this records the demo' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l size -d 'Terminal size of the headless interface, COLSxROWS' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l call-after -d 'Seconds after you come online before Carol calls you (0: at once)' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l no-wait -d 'Set up, print the instructions and exit instead of serving until interrupted'
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -f -a "env" -d 'Print the shell settings that script against the running demo: eval "$(parla demo env)"'
complete -c parla -n "__fish_parla_using_subcommand demo; and not __fish_seen_subcommand_from env help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from env" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from help" -f -a "env" -d 'Print the shell settings that script against the running demo: eval "$(parla demo env)"'
complete -c parla -n "__fish_parla_using_subcommand demo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -f -a "user" -d 'Manage users'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -f -a "token" -d 'Issue an access token for a user'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -f -a "backup" -d 'Save a consistent copy of the server\'s whole database while it runs'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -f -a "restore" -d 'Put a backup in place as the server\'s database (with the server stopped); the database it replaces is kept beside it'
complete -c parla -n "__fish_parla_using_subcommand admin; and not __fish_seen_subcommand_from user token backup restore help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -f -a "add" -d 'Create a user'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -f -a "rm" -d 'Delete a user; their live sessions are disconnected'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -f -a "list" -d 'List every user'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from user" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l expires-in -d 'Lifetime in seconds (360-86400)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from token" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from backup" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l data -d 'The server\'s data directory (default: `server` under the user data directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from restore" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "user" -d 'Manage users'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "token" -d 'Issue an access token for a user'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Save a consistent copy of the server\'s whole database while it runs'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Put a backup in place as the server\'s database (with the server stopped); the database it replaces is kept beside it'
complete -c parla -n "__fish_parla_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand users" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand users" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand users" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand users" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand users" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand users" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand users" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand users" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand users" -l online -d 'Only users who are online (or busy)'
complete -c parla -n "__fish_parla_using_subcommand users" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand users" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand users" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand channels" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand channels" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand channels" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand channels" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand channels" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand channels" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand channels" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand channels" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand channels" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand channels" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand channels" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand group" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand group" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand group" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand group" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand group" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand group" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand group" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand group" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand group" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand group" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand group" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand send" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand send" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand send" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand send" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand send" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand send" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand send" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand send" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand send" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand send" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand send" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand history" -s n -l count -d 'How many messages (1-500)' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l before -d 'Messages older than this sequence number' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l after -d 'Messages newer than this sequence number' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l search -d 'Only messages containing TEXT (A-Z match either case), the newest first found; with --before, older matches' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand history" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand history" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand history" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand history" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand history" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand history" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand read" -l seq -r
complete -c parla -n "__fish_parla_using_subcommand read" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand read" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand read" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand read" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand read" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand read" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand read" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand read" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand read" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand read" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand read" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand watch" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand watch" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand watch" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand watch" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand watch" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand watch" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand watch" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand watch" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand watch" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand watch" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand watch" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand call" -l dtmf -d 'DTMF digits to send once connected (0-9 * # A-D; `,` pauses 2 s)' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l play -d 'Play this WAV file into the call (any rate, mono or stereo)' -r -F
complete -c parla -n "__fish_parla_using_subcommand call" -l tone -d 'Send a sine tone of this frequency' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l record -d 'Record the call to a WAV file: 48 kHz stereo, you left, the other side right' -r -F
complete -c parla -n "__fish_parla_using_subcommand call" -l audio -d 'Audio backend: file (the --play/--tone/--record options), null, or device' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l input -d 'Input device for `--audio device` (id or part of its name; default device otherwise)' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l output -d 'Output device for `--audio device`' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l hangup-after -d 'Hang up this many seconds after the call connects' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l dtmf-duration -d 'Length of each DTMF tone, in milliseconds' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l dtmf-gap -d 'Silence between DTMF tones, in milliseconds' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l bind -d 'Local address for media sockets' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l dscp -d 'DSCP of media packets: 46 (Expedited Forwarding) by default, 0 for none' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l stats-every -d 'Print call statistics (RTT, loss, jitter, bitrate, levels, MOS) every S seconds' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand call" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand call" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand call" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand call" -l dtmf-inband -d 'Send DTMF as in-band tones even when the other side takes RFC 4733 events'
complete -c parla -n "__fish_parla_using_subcommand call" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand call" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c parla -n "__fish_parla_using_subcommand call" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand answer" -l dtmf -d 'DTMF digits to send once connected' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l play -d 'Play this WAV file into the call (any rate, mono or stereo)' -r -F
complete -c parla -n "__fish_parla_using_subcommand answer" -l tone -d 'Send a sine tone of this frequency' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l record -d 'Record the call to a WAV file: 48 kHz stereo, you left, the other side right' -r -F
complete -c parla -n "__fish_parla_using_subcommand answer" -l audio -d 'Audio backend: file (the --play/--tone/--record options), null, or device' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l input -d 'Input device for `--audio device` (id or part of its name; default device otherwise)' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l output -d 'Output device for `--audio device`' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l hangup-after -d 'Hang up this many seconds after the call connects' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l dtmf-duration -d 'Length of each DTMF tone, in milliseconds' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l dtmf-gap -d 'Silence between DTMF tones, in milliseconds' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l bind -d 'Local address for media sockets' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l dscp -d 'DSCP of media packets: 46 (Expedited Forwarding) by default, 0 for none' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l stats-every -d 'Print call statistics (RTT, loss, jitter, bitrate, levels, MOS) every S seconds' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand answer" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand answer" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand answer" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand answer" -l auto -d 'Keep answering calls, one after another, until interrupted'
complete -c parla -n "__fish_parla_using_subcommand answer" -l dtmf-inband -d 'Send DTMF as in-band tones even when the other side takes RFC 4733 events'
complete -c parla -n "__fish_parla_using_subcommand answer" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand answer" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand answer" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand devices" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand devices" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand devices" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand devices" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand devices" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand devices" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand devices" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand devices" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand devices" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand devices" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand devices" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l socket -d 'Control socket (default: the one a running interface or `parla answer` opened)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "status" -d 'Print the instance\'s state: user, connection, calls, audio'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "events" -d 'Stream the instance\'s events as JSON lines until interrupted'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "dial" -d 'Call one to three users'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "answer" -d 'Answer the ringing call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "decline" -d 'Decline the ringing call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "hangup" -d 'Hang up the current call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "hold" -d 'Put the current call on hold'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "resume" -d 'Take the current call off hold'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "mute" -d 'Mute the microphone'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "unmute" -d 'Unmute the microphone'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "dtmf" -d 'Send DTMF digits in the current call (0-9 * # A-D; `,` pauses 2 s)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "send" -d 'Send a chat message to a user, channel id or #group-name'
complete -c parla -n "__fish_parla_using_subcommand ctl; and not __fish_seen_subcommand_from status events dial answer decline hangup hold resume mute unmute dtmf send help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from events" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dial" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from answer" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l reason -d 'none, error, do_not_disturb or no_answer' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from decline" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hangup" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from hold" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from mute" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from unmute" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from dtmf" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from send" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "status" -d 'Print the instance\'s state: user, connection, calls, audio'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "events" -d 'Stream the instance\'s events as JSON lines until interrupted'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "dial" -d 'Call one to three users'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "answer" -d 'Answer the ringing call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "decline" -d 'Decline the ringing call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "hangup" -d 'Hang up the current call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "hold" -d 'Put the current call on hold'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Take the current call off hold'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "mute" -d 'Mute the microphone'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "unmute" -d 'Unmute the microphone'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "dtmf" -d 'Send DTMF digits in the current call (0-9 * # A-D; `,` pauses 2 s)'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "send" -d 'Send a chat message to a user, channel id or #group-name'
complete -c parla -n "__fish_parla_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -f -a "path" -d 'Print the config, keymap and theme files parla reads, and whether each exists'
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -f -a "check" -d 'Load the config, keymap and theme files and report every error with its line'
complete -c parla -n "__fish_parla_using_subcommand config; and not __fish_seen_subcommand_from path check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config, keymap and theme files parla reads, and whether each exists'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Load the config, keymap and theme files and report every error with its line'
complete -c parla -n "__fish_parla_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand completions" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand completions" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand completions" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand completions" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand completions" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand completions" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand completions" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand completions" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand completions" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand completions" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand completions" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand man" -l server -d 'Server address, e.g. http://127.0.0.1:7340' -r
complete -c parla -n "__fish_parla_using_subcommand man" -l token -d 'Access token (a JWT from `parla admin token`)' -r
complete -c parla -n "__fish_parla_using_subcommand man" -l token-cmd -d 'Shell command that prints a fresh access token; run again whenever one is needed' -r
complete -c parla -n "__fish_parla_using_subcommand man" -l api-key -d 'Admin API key (admin commands; for `serve`, the key the server accepts, at least 16 characters)' -r
complete -c parla -n "__fish_parla_using_subcommand man" -l ca-file -d 'Extra certificate authorities (PEM) to trust for an https:// server, for a self-signed or private certificate' -r -F
complete -c parla -n "__fish_parla_using_subcommand man" -s p -l profile -d 'Named profile from the config file' -r
complete -c parla -n "__fish_parla_using_subcommand man" -l config -d 'Config file (default: config.toml in the user config directory)' -r -F
complete -c parla -n "__fish_parla_using_subcommand man" -l record-cast -d 'Record the terminal interface to this file as an asciicast v2 recording' -r -F
complete -c parla -n "__fish_parla_using_subcommand man" -l json -d 'Machine-readable output: JSON (NDJSON for streams)'
complete -c parla -n "__fish_parla_using_subcommand man" -s h -l help -d 'Print help'
complete -c parla -n "__fish_parla_using_subcommand man" -s V -l version -d 'Print version'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "serve" -d 'Run the server (REST + WebSocket, SQLite storage)'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "demo" -d 'Start a local server with demo users and bots, and open the interface as `you`'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "admin" -d 'Administration with the API key: users and access tokens'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "users" -d 'List users with their presence'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "channels" -d 'List your channels with unread counts'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "group" -d 'Create a group channel with a name and its members (you are one)'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "send" -d 'Send a message to a user (their direct channel), a channel id, or #group-name'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "history" -d 'Show messages of a conversation, oldest first'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "read" -d 'Mark a conversation read up to a sequence number (default: all of it)'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "watch" -d 'Stream events (messages, presence, connection state, calls) until interrupted'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "call" -d 'Call one to three users and stay in the call until it ends'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "answer" -d 'Wait for an incoming call and answer it'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "devices" -d 'List the audio devices calls can use with `--audio device`'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "ctl" -d 'Drive a running `parla` interface or `parla answer` over its control socket'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "config" -d 'Show which config file is used, or check it'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "man" -d 'Write the man pages into a directory'
complete -c parla -n "__fish_parla_using_subcommand help; and not __fish_seen_subcommand_from serve demo admin users channels group send history read watch call answer devices ctl config completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from demo" -f -a "env" -d 'Print the shell settings that script against the running demo: eval "$(parla demo env)"'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "user" -d 'Manage users'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "token" -d 'Issue an access token for a user'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "backup" -d 'Save a consistent copy of the server\'s whole database while it runs'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "restore" -d 'Put a backup in place as the server\'s database (with the server stopped); the database it replaces is kept beside it'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "status" -d 'Print the instance\'s state: user, connection, calls, audio'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "events" -d 'Stream the instance\'s events as JSON lines until interrupted'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "dial" -d 'Call one to three users'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "answer" -d 'Answer the ringing call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "decline" -d 'Decline the ringing call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "hangup" -d 'Hang up the current call (or the one named)'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "hold" -d 'Put the current call on hold'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "resume" -d 'Take the current call off hold'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "mute" -d 'Mute the microphone'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "unmute" -d 'Unmute the microphone'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "dtmf" -d 'Send DTMF digits in the current call (0-9 * # A-D; `,` pauses 2 s)'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "send" -d 'Send a chat message to a user, channel id or #group-name'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config, keymap and theme files parla reads, and whether each exists'
complete -c parla -n "__fish_parla_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Load the config, keymap and theme files and report every error with its line'
