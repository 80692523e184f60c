//! Every language fits every window at 80x24 and 160x48 without cutting a key hint, and
//! every built-in theme meets WCAG AA contrast (4.5:1 for text, 3:1 for borders and the
//! focus), computed from the theme files.

#[path = "common/tui_fixtures.rs"]
mod fixtures;

use fixtures::*;
use parla::tui::app::App;
use parla::tui::i18n::Strings;
use parla::tui::keymap::{Action, Keymap, Mode};
use ratatui::crossterm::event::KeyCode;

const LANGUAGES: [&str; 4] = ["en", "it", "es", "pt"];
const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// `key label` as the interface shows a hint.
fn hint(strings: &Strings, keymap: &Keymap, mode: Mode, action: Action, label: &str) -> String {
    let key = keymap.key_for(mode, action).unwrap();
    format!("{key} {}", strings.get(label))
}

/// Runs of whitespace collapsed: a hint wrapped onto the next line reads whole.
fn flowing(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text inside the window (or pane) whose top border starts with `┌ {title}`,
/// title row included, or the whole screen when `title` is empty.
fn window_text(screen: &str, title: &str) -> Option<String> {
    if title.is_empty() {
        return Some(screen.to_owned());
    }
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let needle: Vec<char> = format!("┌ {title}").chars().collect();
    let (top, left) = rows.iter().enumerate().find_map(|(y, row)| {
        row.windows(needle.len())
            .position(|w| w == needle.as_slice())
            .map(|x| (y, x))
    })?;
    let right = rows[top][left..].iter().position(|c| *c == '┐')? + left;
    let mut out = String::new();
    for row in &rows[top..] {
        let inside: String = row
            .get(left + 1..right.min(row.len()))
            .unwrap_or_default()
            .iter()
            .collect();
        out.push_str(&inside.replace('─', " "));
        out.push(' ');
        if row.get(left) == Some(&'└') {
            break;
        }
    }
    Some(out)
}

fn check(name: &str, lang: &str, app: &mut App, title: &str, hints: &[String]) {
    for (w, h) in SIZES {
        let screen = text(app, w, h);
        let inside = window_text(&screen, title)
            .unwrap_or_else(|| panic!("{lang} {w}x{h} {name}: no window `{title}`:\n{screen}"));
        let flow = flowing(&inside);
        for hint in hints {
            assert!(
                flow.contains(hint.as_str()),
                "{lang} {w}x{h} {name}: `{hint}` is cut:\n{screen}"
            );
        }
    }
}

#[test]
fn every_language_fits_every_window() {
    let (keymap, _) = Keymap::load("default", None);
    for lang in LANGUAGES {
        let s = Strings::for_language(lang).unwrap();
        let h = |mode, action, label: &str| hint(&s, &keymap, mode, action, label);

        // The incoming call, from the lists.
        let mut a = app(lang);
        ring(&mut a, "call_2", "carol");
        check(
            "incoming call",
            lang,
            &mut a,
            s.get("incoming.title"),
            &[
                h(Mode::List, Action::Answer, "action.answer"),
                h(Mode::List, Action::Decline, "action.decline"),
                h(Mode::List, Action::DeclineBusy, "action.decline_busy"),
                h(Mode::List, Action::Forward, "action.forward"),
                h(Mode::List, Action::Ignore, "action.ignore"),
                h(Mode::Incoming, Action::Silence, "action.silence"),
            ],
        );
        // Forwarding it: the person picker.
        a.on_key(alt('r'));
        check(
            "forward",
            lang,
            &mut a,
            &s.fmt("switcher.forward_title", &[("who", "Carol")]),
            &[s.get("switcher.forward_hint").to_owned()],
        );

        // The call bar, and the composer's title while writing.
        let mut a = in_call(lang);
        check(
            "call bar",
            lang,
            &mut a,
            "",
            &[
                h(Mode::Chat, Action::HangUp, "action.hang_up"),
                h(Mode::Chat, Action::ToggleHold, "action.toggle_hold"),
                h(Mode::Chat, Action::ToggleMute, "action.toggle_mute"),
                h(Mode::Chat, Action::Dialpad, "action.dialpad"),
            ],
        );
        // Transferring it: the person picker.
        let mut t = in_call(lang);
        t.on_key(alt('t'));
        check(
            "transfer",
            lang,
            &mut t,
            &s.fmt("switcher.transfer_title", &[("who", "Echo")]),
            &[s.get("switcher.transfer_hint").to_owned()],
        );
        a.on_key(key(KeyCode::Char('i')));
        check(
            "composer",
            lang,
            &mut a,
            s.get("pane.composer"),
            &[
                h(Mode::Composer, Action::Send, "action.send"),
                h(Mode::Composer, Action::Newline, "action.newline"),
                h(Mode::Composer, Action::Cancel, "action.cancel"),
            ],
        );

        // A failed message's retry key in the chat.
        let mut a = chatting(lang);
        check(
            "chat",
            lang,
            &mut a,
            "Bob",
            &[s.fmt("delivery.failed", &[("code", "message_too_large")])],
        );

        // The dialpad.
        let mut a = in_call(lang);
        a.on_key(alt('d'));
        check(
            "dialpad",
            lang,
            &mut a,
            s.get("dialpad.title"),
            &[s.get("dialpad.hint").to_owned()],
        );

        // The quit question.
        let mut a = in_call(lang);
        a.on_key(ctrl('c'));
        check(
            "quit",
            lang,
            &mut a,
            s.get("quit.title"),
            &[s.get("quit.keys").to_owned()],
        );

        // The switcher, the search window, the help's own hint, the status line.
        let mut a = chatting(lang);
        a.on_key(ctrl('k'));
        check(
            "switcher",
            lang,
            &mut a,
            s.get("switcher.title"),
            &[s.get("switcher.hint").to_owned()],
        );
        let mut a = chatting(lang);
        a.on_key(key(KeyCode::Char('/')));
        check(
            "search",
            lang,
            &mut a,
            &s.fmt("search.title", &[("channel", "Bob")]),
            &[s.get("search.hint").to_owned()],
        );
        let mut a = app(lang);
        a.on_key(key(KeyCode::F(1)));
        // The help's first entries, in this language.
        let keymap = Keymap::builtin("default").unwrap();
        let first: Vec<String> = keymap
            .help_rows()
            .iter()
            .take(2)
            .map(|r| s.desc(&r.desc).to_owned())
            .collect();
        if lang != "en" {
            assert!(
                first
                    .iter()
                    .all(|d| keymap.help_rows().iter().all(|r| r.desc != *d)),
                "{lang}: {first:?}"
            );
        }
        check(
            "help",
            lang,
            &mut a,
            s.get("help.title"),
            &[vec![s.fmt("help.hint", &[("close", "?")])], first].concat(),
        );
        let mut a = app(lang);
        check(
            "status line",
            lang,
            &mut a,
            "",
            &[h(Mode::Global, Action::Help, "action.help")],
        );
    }
}

/// The colour as the terminal shows it (xterm's palette for the named ones), or the
/// terminal's own background for `reset`.
fn rgb(c: Option<ratatui::style::Color>, terminal: (u8, u8, u8)) -> (u8, u8, u8) {
    use ratatui::style::Color;
    match c {
        None | Some(Color::Reset) => terminal,
        Some(Color::Rgb(r, g, b)) => (r, g, b),
        Some(Color::Black) => (0, 0, 0),
        Some(Color::Red) => (0xcd, 0, 0),
        Some(Color::Green) => (0, 0xcd, 0),
        Some(Color::Yellow) => (0xcd, 0xcd, 0),
        Some(Color::Blue) => (0, 0, 0xee),
        Some(Color::Magenta) => (0xcd, 0, 0xcd),
        Some(Color::Cyan) => (0, 0xcd, 0xcd),
        Some(Color::Gray) => (0xe5, 0xe5, 0xe5),
        Some(Color::DarkGray) => (0x7f, 0x7f, 0x7f),
        Some(Color::LightRed) => (0xff, 0, 0),
        Some(Color::LightGreen) => (0, 0xff, 0),
        Some(Color::LightYellow) => (0xff, 0xff, 0),
        Some(Color::LightBlue) => (0x5c, 0x5c, 0xff),
        Some(Color::LightMagenta) => (0xff, 0, 0xff),
        Some(Color::LightCyan) => (0, 0xff, 0xff),
        Some(Color::White) => (0xff, 0xff, 0xff),
        Some(other) => panic!("a theme colour the test cannot measure: {other:?}"),
    }
}

/// WCAG 2 contrast ratio of two colours.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    fn channel(c: u8) -> f64 {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    let lum =
        |(r, g, b): (u8, u8, u8)| 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn every_theme_meets_wcag_aa_contrast() {
    use parla::tui::theme::Theme;
    // What `reset` stands for: a dark theme on a dark terminal, a light one on white.
    let terminals = [
        ("dark", (0x1c, 0x1c, 0x1c)),
        ("light", (0xff, 0xff, 0xff)),
        ("high-contrast", (0, 0, 0)),
    ];
    let mut failures = Vec::new();
    for (name, terminal) in terminals {
        let theme = Theme::builtin(name).unwrap();
        // Every element carries text (borders too: hints, previews, offline people).
        for element in parla::tui::theme::ELEMENTS {
            let st = theme.style(element);
            let ratio = contrast(rgb(st.fg, terminal), rgb(st.bg, terminal));
            if ratio < 4.5 {
                failures.push(format!("{name} {element}: text {ratio:.2}:1 < 4.5:1"));
            }
        }
        // The focused frame is drawn in the focus colour on the terminal's background.
        let ratio = contrast(rgb(theme.focus_colour(), terminal), terminal);
        if ratio < 3.0 {
            failures.push(format!("{name} focus frame: {ratio:.2}:1 < 3:1"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
