//! The terminal interface's data: one `Action` enum that input maps to, keymaps and themes
//! (defaults compiled in from `keymaps/` and `themes/`, user files merged on top).

pub mod keymap;
pub mod theme;
