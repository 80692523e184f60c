//! The control socket: a running interface or `parla answer` takes requests from `parla ctl`
//! (or any program) as JSON lines over a local socket.
