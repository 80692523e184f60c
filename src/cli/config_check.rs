//! `parla config check` for the config file: every problem in one run, each with its line.
//! A syntax error stops the reading (nothing after it can be trusted); past that, each
//! setting is checked on its own, so one wrong value does not hide the next.

use std::path::Path;

use crate::settings::{AudioConfig, Profile, ServerSection};

/// The 1-based line of `key` in `section` (`None`: the top, before any `[header]`), or of the
/// section's header when the key is not written there.
fn line_of(text: &str, section: Option<&str>, key: Option<&str>) -> Option<usize> {
    let mut current: Option<String> = None;
    let mut header = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let name: String = name
                .trim_matches('[')
                .split('.')
                .map(|p| p.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join(".");
            if section == Some(name.as_str()) {
                header = Some(i + 1);
            }
            current = Some(name);
            continue;
        }
        if current.as_deref() != section {
            continue;
        }
        if let Some(k) = key {
            let Some(rest) = line.strip_prefix(k) else {
                continue;
            };
            if rest.trim_start().starts_with('=') {
                return Some(i + 1);
            }
        }
    }
    header
}

/// Whether `url` is a server address parla can use.
fn server_problem(url: &str) -> Option<String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => None,
        Ok(u) => Some(format!(
            "server `{url}` is not an http:// or https:// address (scheme `{}`)",
            u.scheme()
        )),
        Err(e) => Some(format!("server `{url}` is not an address: {e}")),
    }
}

/// Every problem of the config file `text` read from `path`, as `PATH: line N: what`.
#[must_use]
pub fn problems(text: &str, path: &Path) -> Vec<String> {
    let at = |line: Option<usize>, what: String| match line {
        Some(n) => format!("{}: line {n}: {what}", path.display()),
        None => format!("{}: {what}", path.display()),
    };
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        // toml's own message names the line and column.
        Err(e) => return vec![format!("{}: {e}", path.display())],
    };
    let mut out = Vec::new();
    for (key, value) in &table {
        let line = line_of(text, None, Some(key));
        match key.as_str() {
            "profile" | "keymap" | "theme" | "language" => {
                let Some(v) = value.as_str() else {
                    out.push(at(line, format!("`{key}` must be a string")));
                    continue;
                };
                match key.as_str() {
                    "profile" if !table
                        .get("profiles")
                        .and_then(toml::Value::as_table)
                        .is_some_and(|p| p.contains_key(v)) =>
                    {
                        out.push(at(
                            line,
                            format!("profile `{v}` is not defined under [profiles]"),
                        ));
                    }
                    "keymap" if !["default", "vim"].contains(&v) => {
                        out.push(at(line, format!("keymap `{v}` is not built in (default, vim)")));
                    }
                    "theme" if crate::tui::theme::Theme::builtin(v).is_none() => out.push(at(
                        line,
                        format!("theme `{v}` is not built in (dark, light, high-contrast)"),
                    )),
                    "language" if crate::tui::i18n::Strings::for_language(v).is_none() => {
                        out.push(at(
                            line,
                            format!("language `{v}` is not available (en, it, es, pt)"),
                        ));
                    }
                    _ => {}
                }
            }
            "profiles" => {
                let Some(profiles) = value.as_table() else {
                    out.push(at(line, "`profiles` must be a table of profiles".into()));
                    continue;
                };
                for (name, p) in profiles {
                    let section = format!("profiles.{name}");
                    match p.clone().try_into::<Profile>() {
                        Err(e) => out.push(at(
                            line_of(text, Some(&section), None),
                            format!("profile `{name}`: {}", e.message()),
                        )),
                        Ok(p) => {
                            if let Some(problem) = p.server.as_deref().and_then(server_problem) {
                                out.push(at(
                                    line_of(text, Some(&section), Some("server")),
                                    problem,
                                ));
                            }
                        }
                    }
                }
            }
            "audio" => match value.clone().try_into::<AudioConfig>() {
                Err(e) => out.push(at(
                    line_of(text, Some("audio"), None),
                    format!("[audio]: {}", e.message()),
                )),
                Ok(a) => {
                    if !["device", "null"].contains(&a.backend.as_str()) {
                        out.push(at(
                            line_of(text, Some("audio"), Some("backend")),
                            format!("audio backend `{}` is unknown (device or null)", a.backend),
                        ));
                    }
                    if a.dscp > 63 {
                        out.push(at(
                            line_of(text, Some("audio"), Some("dscp")),
                            format!(
                                "audio dscp {} is out of range (0 to 63; 46 is Expedited Forwarding)",
                                a.dscp
                            ),
                        ));
                    }
                    if a.bind.parse::<std::net::SocketAddr>().is_err() {
                        out.push(at(
                            line_of(text, Some("audio"), Some("bind")),
                            format!("audio bind `{}` is not an address:port", a.bind),
                        ));
                    }
                }
            },
            "server" => {
                if let Err(e) = value.clone().try_into::<ServerSection>() {
                    out.push(at(
                        line_of(text, Some("server"), None),
                        format!("[server]: {}", e.message()),
                    ));
                }
            }
            other => out.push(at(
                line,
                format!(
                    "unknown setting `{other}` (profile, profiles, keymap, theme, language, audio, server)"
                ),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "\
profile = \"home\"
colour = \"blue\"
language = \"klingon\"

[profiles.work]
server = \"htp://chat.example.org\"
token = 42

[profiles.home]
server = \"https://chat.example.org\"

[audio]
backend = \"tape\"
dscp = 64
";
        let p = problems(text, Path::new("config.toml"));
        let joined = p.join("\n");
        assert_eq!(p.len(), 5, "{joined}");
        assert!(
            joined.contains("line 2: unknown setting `colour`"),
            "{joined}"
        );
        assert!(joined.contains("line 3: language `klingon`"), "{joined}");
        assert!(joined.contains("line 5: profile `work`"), "{joined}");
        assert!(joined.contains("line 13: audio backend `tape`"), "{joined}");
        assert!(joined.contains("line 14: audio dscp 64"), "{joined}");
        // With the token fixed, the server address is what is wrong.
        let fixed = text.replace("token = 42", "token = \"t\"");
        let joined = problems(&fixed, Path::new("config.toml")).join("\n");
        assert!(
            joined.contains("line 6: server `htp://chat.example.org` is not an http"),
            "{joined}"
        );
        assert!(problems("", Path::new("c")).is_empty());
        assert!(problems("profile = \"home\"\n[profiles.home]\n", Path::new("c")).is_empty());
        let syntax = problems("language = \n", Path::new("c")).join("\n");
        assert!(syntax.contains("line 1"), "{syntax}");
    }
}
