//! Windows over the panes: help, the incoming call, the dialpad, the quit question, and
//! toasts.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{key_hints, truncate};
use crate::tui::app::App;
use crate::tui::keymap::{Action, Mode};
use crate::tui::theme::Theme;

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A window of wrapped lines (blank ones kept), as high as they need, centred.
fn text_window(
    frame: &mut Frame,
    title: &str,
    width: u16,
    parts: &[(String, ratatui::style::Style)],
    style: ratatui::style::Style,
) {
    let inner_w = width.min(frame.area().width).saturating_sub(3) as usize;
    let mut lines: Vec<Line> = Vec::new();
    for (text, st) in parts {
        if text.is_empty() {
            lines.push(Line::raw(""));
            continue;
        }
        for l in super::wrap(text, inner_w) {
            lines.push(Line::styled(format!(" {l}"), *st));
        }
    }
    let height = u16::try_from(lines.len() + 3).unwrap_or(u16::MAX);
    let area = centered(frame.area(), width, height);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
        .style(style);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn incoming(frame: &mut Frame, app: &App, theme: &Theme, room_id: &str) {
    let who = app
        .calls()
        .iter()
        .find(|c| c.view.call.room_id == room_id)
        .map(|c| app.call_peers(&c.view))
        .unwrap_or_default();
    // The keys that work where the keys go now: the window itself takes none but `esc`
    // (and that only outside the composer and the filter).
    let mode = app.mode();
    let answer = key_hints(app, mode, &[Action::Answer]);
    let mut hints = key_hints(
        app,
        mode,
        &[
            Action::Decline,
            Action::DeclineBusy,
            Action::Forward,
            Action::Ignore,
        ],
    );
    let typing = matches!(mode, Mode::Composer | Mode::ComposerNormal) || app.filtering();
    let silence = if typing {
        app.keymap().key_for(mode, Action::Silence)
    } else {
        app.keymap()
            .key_for(Mode::Incoming, Action::Silence)
            .or_else(|| app.keymap().key_for(mode, Action::Silence))
    };
    if let Some(k) = silence {
        hints = format!("{hints} · {k} {}", app.strings().get("action.silence"));
    }
    let style = theme.style("launcher");
    let bold = style.add_modifier(Modifier::BOLD);
    let mut parts = vec![
        (String::new(), style),
        (app.strings().fmt("incoming.from", &[("who", &who)]), bold),
        (String::new(), style),
        (answer, bold),
        (hints, style),
    ];
    if typing {
        parts.push((app.strings().get("incoming.typing").to_owned(), style));
    }
    text_window(
        frame,
        app.strings().get("incoming.title"),
        56,
        &parts,
        style,
    );
}

/// Quitting would end calls or drop drafts: says which, and asks.
pub(super) fn confirm_quit(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    calls: usize,
    drafts: usize,
) {
    let s = app.strings();
    let mut what = Vec::new();
    if calls > 0 {
        what.push(s.fmt("quit.calls", &[("n", &calls.to_string())]));
    }
    if drafts > 0 {
        what.push(s.fmt("quit.drafts", &[("n", &drafts.to_string())]));
    }
    let style = theme.style("launcher");
    let parts = [
        (String::new(), style),
        (
            s.fmt("quit.question", &[("what", &what.join(", "))]),
            style.add_modifier(Modifier::BOLD),
        ),
        (String::new(), style),
        (s.get("quit.keys").to_owned(), style),
    ];
    text_window(frame, s.get("quit.title"), 56, &parts, style);
}

pub(super) fn dialpad(frame: &mut Frame, app: &App, theme: &Theme, sent: &str) {
    let area = centered(frame.area(), 40, 13);
    frame.render_widget(Clear, area);
    let style = theme.style("dial");
    let mut lines = vec![Line::raw("")];
    for row in [
        ["1", "2", "3", "A"],
        ["4", "5", "6", "B"],
        ["7", "8", "9", "C"],
        ["*", "0", "#", "D"],
    ] {
        lines.push(Line::styled(
            format!("   {}", row.map(|k| format!("[ {k} ]")).join(" ")),
            style.add_modifier(Modifier::BOLD),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            " {}",
            app.strings().fmt("dialpad.sent", &[("digits", sent)])
        ),
        style,
    ));
    lines.push(Line::styled(
        format!(" {}", app.strings().get("dialpad.hint")),
        style,
    ));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", app.strings().get("dialpad.title")))
        .style(style);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

pub(super) fn toasts(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let width = (area.width / 2).clamp(20, 60);
    let mut y = area.y + 1;
    for t in app.toasts() {
        // The whole text, wrapped (four lines at most; the notices window has it all).
        let mut lines = super::wrap(&t.text, width.saturating_sub(2) as usize);
        if lines.len() > 4 {
            lines.truncate(4);
            if let Some(last) = lines.last_mut() {
                *last = truncate(&format!("{last} …"), width.saturating_sub(2) as usize);
            }
        }
        let height = u16::try_from(lines.len()).unwrap_or(4) + 2;
        if y.saturating_add(height) > area.bottom() {
            break;
        }
        let rect = Rect::new(area.right().saturating_sub(width + 1), y, width, height);
        frame.render_widget(Clear, rect);
        let text: Vec<Line> = lines.into_iter().map(Line::raw).collect();
        frame.render_widget(
            Paragraph::new(text)
                .block(Block::default().borders(Borders::ALL))
                .style(theme.style("feedback")),
            rect,
        );
        y += height;
    }
}

/// Everything the user was told, newest first, with the software's own words below.
pub(super) fn notices(frame: &mut Frame, app: &App, theme: &Theme, scroll: u16) {
    let area = centered(frame.area(), 90, frame.area().height.saturating_sub(2));
    frame.render_widget(Clear, area);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    if app.notices().is_empty() {
        lines.push(Line::styled(
            format!(" {}", app.strings().get("notices.none")),
            theme.style("border"),
        ));
    }
    for n in app.notices() {
        let when =
            n.at.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string();
        let head = format!(" {when}  ");
        let indent = " ".repeat(head.chars().count());
        for (i, l) in super::wrap(&n.text, width.saturating_sub(head.len()))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 { head.clone() } else { indent.clone() };
            lines.push(Line::from(vec![
                Span::styled(lead, theme.style("border")),
                Span::raw(l),
            ]));
        }
        if !n.detail.is_empty() {
            for l in super::wrap(&n.detail, width.saturating_sub(indent.len())) {
                lines.push(Line::styled(format!("{indent}{l}"), theme.style("border")));
            }
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("headerButton"))
        .title(format!(" {} ", app.strings().get("notices.title")))
        .style(theme.style("body"));
    let max = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(max.saturating_sub(1)), 0)),
        area,
    );
}
