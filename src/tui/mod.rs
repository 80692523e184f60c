//! The terminal interface: one `Action` enum that input maps to, keymaps and themes
//! (defaults compiled in from `keymaps/` and `themes/`, user files merged on top), the
//! application state and its rendering, and the loop that runs it in a terminal.

pub mod app;
pub mod cast;
pub mod i18n;
pub mod keymap;
pub mod run;
pub mod script;
pub mod theme;
pub mod ui;
