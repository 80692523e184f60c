//! Themes as data: `themes/*.toml`, compiled in; a user theme file may replace any element.
//! Element names follow the chat widget's layout keys (header, headerButton, body,
//! launcher, messageSent, messageReceived, dial, call, feedback) plus what a terminal
//! needs (border, selection, error, status). `NO_COLOR` turns colours off.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const ELEMENTS: &[&str] = &[
    "header",
    "headerButton",
    "body",
    "launcher",
    "messageSent",
    "messageReceived",
    "dial",
    "call",
    "feedback",
    "border",
    "selection",
    "error",
    "status",
];

pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementSpec {
    color: String,
    background: String,
    #[serde(default)]
    bold: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: BTreeMap<String, Style>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}: {message}")]
pub struct ThemeError {
    pub source_name: String,
    pub message: String,
}

fn parse_color(text: &str) -> Result<Color, String> {
    Color::from_str(text).map_err(|_| format!("`{text}` is not a colour"))
}

impl Theme {
    /// Parses a theme file; every element must be there (a user file may list only some, see
    /// [`Theme::merge_str`]).
    pub fn parse(text: &str, source_name: &str) -> Result<Theme, ThemeError> {
        let mut theme = Theme {
            name: source_name.to_owned(),
            styles: BTreeMap::new(),
        };
        theme.merge_str(text, source_name)?;
        if let Some(missing) = ELEMENTS.iter().find(|e| !theme.styles.contains_key(**e)) {
            return Err(ThemeError {
                source_name: source_name.to_owned(),
                message: format!("no style for `{missing}`"),
            });
        }
        Ok(theme)
    }

    /// Replaces the elements a file lists; a broken file changes nothing.
    pub fn merge_str(&mut self, text: &str, source_name: &str) -> Result<(), ThemeError> {
        let err = |message: String| ThemeError {
            source_name: source_name.to_owned(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let name = match table.remove("name") {
            Some(toml::Value::String(n)) => Some(n),
            Some(_) => return Err(err("`name` must be a string".into())),
            None => None,
        };
        // Element errors name the line of the element's table.
        let at = |element: &str| {
            text.lines()
                .position(|l| l.trim() == format!("[{element}]"))
                .map(|i| format!("line {}: ", i + 1))
                .unwrap_or_default()
        };
        let mut styles = BTreeMap::new();
        for (element, value) in table {
            if !ELEMENTS.contains(&element.as_str()) {
                return Err(err(format!(
                    "unknown element `{element}` (known: {})",
                    ELEMENTS.join(", ")
                )));
            }
            let spec: ElementSpec = value
                .try_into()
                .map_err(|e: toml::de::Error| err(format!("{}`{element}`: {e}", at(&element))))?;
            let mut style = Style::default()
                .fg(parse_color(&spec.color)
                    .map_err(|m| err(format!("{}`{element}`: {m}", at(&element))))?)
                .bg(parse_color(&spec.background)
                    .map_err(|m| err(format!("{}`{element}`: {m}", at(&element))))?);
            if spec.bold {
                style = style.add_modifier(Modifier::BOLD);
            }
            styles.insert(element, style);
        }
        if let Some(n) = name {
            self.name = n;
        }
        self.styles.extend(styles);
        Ok(())
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| Theme::parse(text, &format!("themes/{n}.toml")).ok())
    }

    /// A built-in theme with a user file on top; problems are reported and what could be
    /// loaded is kept. With `no_color`, every colour is dropped (bold stays) and reverse video
    /// marks the selection, the focused title and the status line.
    pub fn load(
        name: &str,
        user_file: Option<&Path>,
        no_color: bool,
    ) -> (Theme, Option<ThemeError>) {
        let mut problem = None;
        let mut theme = match Theme::builtin(name) {
            Some(t) => t,
            None => {
                problem = Some(ThemeError {
                    source_name: "config".into(),
                    message: format!("no built-in theme `{name}` (dark, light, high-contrast)"),
                });
                Theme::builtin("dark").unwrap_or(Theme {
                    name: "dark".into(),
                    styles: BTreeMap::new(),
                })
            }
        };
        if let Some(path) = user_file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    if let Err(e) = theme.merge_str(&text, &path.display().to_string()) {
                        problem = Some(e);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    problem = Some(ThemeError {
                        source_name: path.display().to_string(),
                        message: e.to_string(),
                    });
                }
            }
        }
        if no_color {
            for (element, style) in &mut theme.styles {
                style.fg = None;
                style.bg = None;
                // What colour marked, reverse video and emphasis mark now: the cursor, the
                // focused pane's title, the status line; borders step back.
                match element.as_str() {
                    "selection" | "headerButton" | "status" => {
                        *style = style.add_modifier(Modifier::REVERSED);
                    }
                    "border" => *style = style.add_modifier(Modifier::DIM),
                    _ => {}
                }
            }
        }
        (theme, problem)
    }

    /// The colour of the focused pane's frame: the focused title's background, or its
    /// text colour where that background is the body's own (it would not show).
    pub fn focus_colour(&self) -> Option<ratatui::style::Color> {
        let accent = self.style("headerButton");
        match accent.bg {
            Some(bg) if Some(bg) != self.style("body").bg => Some(bg),
            _ => accent.fg,
        }
    }

    /// The style of an element (plain when unknown).
    pub fn style(&self, element: &str) -> Style {
        self.styles.get(element).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_is_complete() {
        for (name, _) in BUILTIN {
            let t = Theme::builtin(name).unwrap_or_else(|| panic!("{name} does not load"));
            assert_eq!(t.name, *name);
            for e in ELEMENTS {
                assert!(t.styles.contains_key(*e), "{name} lacks {e}");
            }
        }
        let dark = Theme::builtin("dark").unwrap();
        assert_eq!(
            dark.style("messageSent").bg,
            Some(Color::Rgb(0x00, 0x37, 0x62))
        );
        assert!(dark.style("header").add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn user_files_override_and_broken_ones_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("theme.toml");
        std::fs::write(&path, "[dial]\ncolor = \"red\"\nbackground = \"#000000\"\n").unwrap();
        let (t, problem) = Theme::load("light", Some(&path), false);
        assert!(problem.is_none());
        assert_eq!(t.style("dial").fg, Some(Color::Red));
        assert_eq!(t.name, "light");

        std::fs::write(&path, "[dial]\ncolor = \"redd\"\nbackground = \"black\"\n").unwrap();
        let (t, problem) = Theme::load("dark", Some(&path), false);
        assert!(problem.unwrap().message.contains("redd"));
        assert_eq!(t, Theme::builtin("dark").unwrap(), "defaults kept");

        std::fs::write(&path, "[dial\ncolor = 1\n").unwrap();
        let (_, problem) = Theme::load("dark", Some(&path), false);
        assert!(problem.unwrap().message.contains("line 1"));

        std::fs::write(
            &path,
            "[sidebar]\ncolor = \"red\"\nbackground = \"black\"\n",
        )
        .unwrap();
        let (_, problem) = Theme::load("dark", Some(&path), false);
        assert!(problem.unwrap().message.contains("unknown element"));
    }

    #[test]
    fn no_color_drops_colours_but_keeps_emphasis() {
        let (t, _) = Theme::load("dark", None, true);
        let header = t.style("header");
        assert_eq!((header.fg, header.bg), (None, None));
        assert!(header.add_modifier.contains(Modifier::BOLD));
        let (_, problem) = Theme::load("neon", None, false);
        assert!(problem.is_some());
    }
}
