//! User-visible strings in English, Italian, Spanish and Portuguese (`locales/*.toml`,
//! compiled in). The language comes from the config file or the locale (`LC_ALL`,
//! `LC_MESSAGES`, `LANG`); English fills anything a translation lacks.

use std::collections::BTreeMap;

use serde::Deserialize;

pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("../../locales/en.toml")),
    ("it", include_str!("../../locales/it.toml")),
    ("es", include_str!("../../locales/es.toml")),
    ("pt", include_str!("../../locales/pt.toml")),
];

#[derive(Deserialize)]
struct LocaleFile {
    language: String,
    strings: BTreeMap<String, String>,
}

/// One language's strings, with English behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Strings {
    pub code: &'static str,
    pub language: String,
    own: BTreeMap<String, String>,
    fallback: BTreeMap<String, String>,
}

fn parse(text: &str) -> Option<LocaleFile> {
    toml::from_str(text).ok()
}

impl Strings {
    /// The strings of `code` (`en`, `it`, `es`, `pt`; a region such as `pt_BR` is fine);
    /// `None` for a language parla does not have.
    pub fn for_language(code: &str) -> Option<Strings> {
        let short = code
            .split(['_', '-', '.'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let (code, text) = LANGUAGES.iter().find(|(c, _)| *c == short)?;
        let file = parse(text)?;
        let fallback = LANGUAGES
            .first()
            .and_then(|(_, t)| parse(t))
            .map(|f| f.strings)
            .unwrap_or_default();
        Some(Strings {
            code,
            language: file.language,
            own: file.strings,
            fallback,
        })
    }

    /// English.
    pub fn english() -> Strings {
        Strings::for_language("en").unwrap_or(Strings {
            code: "en",
            language: "English".into(),
            own: BTreeMap::new(),
            fallback: BTreeMap::new(),
        })
    }

    /// The language named in the config, else the locale's, else English.
    pub fn choose(configured: Option<&str>) -> Strings {
        if let Some(s) = configured.and_then(Strings::for_language) {
            return s;
        }
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if v.is_empty() || v == "C" || v == "POSIX" {
                    continue;
                }
                return Strings::for_language(&v).unwrap_or_else(Strings::english);
            }
        }
        Strings::english()
    }

    /// The string for `key` (the key itself when no language has it, so a gap shows).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.own
            .get(key)
            .or_else(|| self.fallback.get(key))
            .map_or(key, String::as_str)
    }

    /// The string for `key`, when this language or English has one.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.own
            .get(key)
            .or_else(|| self.fallback.get(key))
            .map(String::as_str)
    }

    /// A key binding's description in this language (the built-in ones are translated;
    /// others, from the user's keymap, show as written).
    pub fn desc<'a>(&'a self, desc: &'a str) -> &'a str {
        self.own
            .get(&format!("desc.{desc}"))
            .map_or(desc, String::as_str)
    }

    /// The string for `key` with `{name}` placeholders filled.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.get(key).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// Every key of this language's own file.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.own.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_language_has_every_string_with_the_same_placeholders() {
        let en = Strings::english();
        assert!(en.keys().count() > 50);
        for (code, _) in LANGUAGES {
            let s = Strings::for_language(code).unwrap_or_else(|| panic!("{code} does not parse"));
            for key in en.keys() {
                let own = s.own.get(key);
                assert!(own.is_some(), "{code} lacks {key}");
                assert_eq!(
                    placeholders(own.map_or("", String::as_str)),
                    placeholders(en.get(key)),
                    "{code}: placeholders of {key}"
                );
            }
            for key in s.keys() {
                if key.starts_with("desc.") {
                    continue;
                }
                assert!(en.own.contains_key(key), "{code} has unknown key {key}");
            }
        }
    }

    /// Every description of the built-in key bindings is translated (English shows them as
    /// written), and no translation is left for one that no longer exists.
    #[test]
    fn every_language_translates_the_built_in_key_descriptions() {
        let mut descs = std::collections::BTreeSet::new();
        for name in ["default", "vim"] {
            let map = crate::tui::keymap::Keymap::builtin(name).unwrap();
            descs.extend(map.help_rows().into_iter().map(|r| r.desc));
        }
        assert!(descs.len() > 40);
        for (code, _) in LANGUAGES {
            let s = Strings::for_language(code).unwrap();
            let own: Vec<&str> = s.keys().filter_map(|k| k.strip_prefix("desc.")).collect();
            if *code == "en" {
                assert!(own.is_empty(), "English shows the descriptions as written");
                continue;
            }
            for d in &descs {
                assert!(
                    own.contains(&d.as_str()),
                    "{code} lacks a translation of `{d}`"
                );
            }
            for d in own {
                assert!(
                    descs.contains(d),
                    "{code} translates `{d}`, which no binding has"
                );
            }
        }
    }

    /// Every reason a call ends for has words in every language (the match below stops
    /// compiling when a reason is added without being listed).
    #[test]
    fn every_end_reason_has_words() {
        use crate::proto::EndReason::{self, *};
        let all = [
            Declined,
            Canceled,
            AnsweredOnAnotherDevice,
            HangUp,
            Timeout,
            Error,
            IncompatibleMedia,
            MediaLost,
            ConnectionLost,
            Ignored,
            Forwarded,
            Transferred,
            Joined,
        ];
        for r in all {
            match r {
                Declined
                | Canceled
                | AnsweredOnAnotherDevice
                | HangUp
                | Timeout
                | Error
                | IncompatibleMedia
                | MediaLost
                | ConnectionLost
                | Ignored
                | Forwarded
                | Transferred
                | Joined => {}
            }
        }
        for (code, _) in LANGUAGES {
            let s = Strings::for_language(code).unwrap();
            for r in all {
                let key = format!("reason.{}", EndReason::as_str(r));
                assert!(s.own.contains_key(&key), "{code} lacks {key}");
            }
        }
    }

    #[test]
    fn the_language_comes_from_config_or_locale() {
        assert_eq!(Strings::choose(Some("it")).code, "it");
        assert_eq!(Strings::choose(Some("pt_BR.UTF-8")).code, "pt");
        assert_eq!(Strings::for_language("klingon"), None);
        let s = Strings::english();
        assert_eq!(
            s.fmt("presence.busy_with", &[("who", "bob")]),
            "busy with bob"
        );
        assert_eq!(s.get("no.such.key"), "no.such.key");
    }
}
