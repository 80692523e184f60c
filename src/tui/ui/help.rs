//! The help overlay: every binding, by where it applies, filtered as you type and
//! scrollable; descriptions wrap rather than run off the window.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::overlays::centered;
use super::wrap;
use crate::tui::app::App;
use crate::tui::keymap::{Action, HelpRow, Mode};
use crate::tui::theme::Theme;

/// The widest the key column gets; longer key lists wrap within it.
const KEYS_WIDTH: usize = 26;

fn mode_name(app: &App, mode: Mode) -> String {
    app.strings()
        .get(&format!("help.mode.{}", mode.as_str()))
        .to_owned()
}

/// The rows to show: the keymap's, the dialpad's digits, and only those matching
/// `filter` (in the keys, the description or the mode's name, without case).
pub fn help_rows(app: &App, filter: &str) -> Vec<(Mode, String, String)> {
    let mut rows: Vec<(Mode, String, String)> = app
        .keymap()
        .help_rows()
        .into_iter()
        .map(
            |HelpRow {
                 mode, keys, desc, ..
             }| {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                (mode, keys.join(", "), app.strings().desc(&desc).to_owned())
            },
        )
        .collect();
    // Digits are not bindings but the dialpad's own keys.
    let at = rows
        .iter()
        .position(|(m, _, _)| *m == Mode::Dialpad)
        .unwrap_or(rows.len());
    rows.insert(
        at,
        (
            Mode::Dialpad,
            "0-9 * # A-D".to_owned(),
            app.strings().get("help.dialpad_digits").to_owned(),
        ),
    );
    let f = filter.to_lowercase();
    if !f.is_empty() {
        rows.retain(|(m, keys, desc)| {
            keys.to_lowercase().contains(&f)
                || desc.to_lowercase().contains(&f)
                || mode_name(app, *m).to_lowercase().contains(&f)
        });
    }
    rows
}

/// The lines of the overlay for an inner width of `width`.
fn lines(app: &App, theme: &Theme, filter: &str, width: usize) -> Vec<Line<'static>> {
    let rows = help_rows(app, filter);
    let keys_width = rows
        .iter()
        .map(|(_, k, _)| k.width())
        .max()
        .unwrap_or(0)
        .min(KEYS_WIDTH);
    let desc_width = width.saturating_sub(keys_width + 4).max(10);
    let mut out = Vec::new();
    let mut last_mode = None;
    for (mode, keys, desc) in rows {
        if last_mode != Some(mode) {
            if last_mode.is_some() {
                out.push(Line::raw(""));
            }
            out.push(Line::styled(
                mode_name(app, mode),
                theme.style("headerButton"),
            ));
            last_mode = Some(mode);
        }
        let keys = wrap(&keys, keys_width);
        let descs = wrap(&desc, desc_width);
        for i in 0..keys.len().max(descs.len()) {
            let k = keys.get(i).map_or("", String::as_str);
            let d = descs.get(i).map_or("", String::as_str);
            out.push(Line::from(vec![
                Span::styled(
                    format!("  {k}{}", " ".repeat(keys_width.saturating_sub(k.width()))),
                    theme.style("dial"),
                ),
                Span::raw(format!("  {d}")),
            ]));
        }
    }
    if out.is_empty() {
        out.push(Line::styled(
            format!(" {}", app.strings().fmt("help.none", &[("text", filter)])),
            theme.style("border"),
        ));
    }
    out
}

pub(super) fn help(frame: &mut Frame, app: &App, theme: &Theme, scroll: u16, filter: &str) {
    let area = centered(frame.area(), 96, frame.area().height.saturating_sub(2));
    frame.render_widget(Clear, area);
    let inner = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    let s = app.strings();
    // The first line is the filter; the rest scrolls.
    let body = lines(app, theme, filter, inner.width as usize);
    let room = (inner.height as usize).saturating_sub(1);
    let max = body.len().saturating_sub(room);
    let from = usize::from(scroll).min(max);
    let shown: Vec<Line> = body.iter().skip(from).take(room).cloned().collect();
    let position = if body.len() > room {
        format!(
            " · {}",
            s.fmt(
                "help.position",
                &[
                    ("from", &(from + 1).to_string()),
                    ("to", &(from + shown.len()).to_string()),
                    ("of", &body.len().to_string()),
                ]
            )
        )
    } else {
        String::new()
    };
    let close = app
        .keymap()
        .key_for(Mode::Global, Action::Help)
        .map(ToString::to_string)
        .unwrap_or_default();
    let title = format!(" {}{position} ", s.get("help.title"));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("headerButton"))
        .title(title)
        .style(theme.style("body"));
    let mut all = vec![Line::from(vec![
        Span::styled(" / ", theme.style("headerButton")),
        Span::raw(filter.to_owned()),
        Span::styled(
            format!("   {}", s.fmt("help.hint", &[("close", &close)])),
            theme.style("border"),
        ),
    ])];
    all.extend(shown);
    frame.render_widget(Paragraph::new(all).block(block), area);
}
