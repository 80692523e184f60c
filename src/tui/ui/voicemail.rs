//! The mailbox window (voice messages: who, when, how long, new or heard, the one
//! playing) and the window that offers to leave a message after an unanswered call.

use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::overlays::centered;
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub(super) fn mailbox(frame: &mut Frame, app: &App, theme: &Theme, selected: usize) {
    let s = app.strings();
    let list = app.mailbox();
    let height = u16::try_from(list.len().max(1) + 5).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 64, height.min(frame.area().height));
    frame.render_widget(Clear, area);
    let style = theme.style("launcher");
    let mut lines = vec![Line::raw("")];
    if list.is_empty() {
        lines.push(Line::styled(format!(" {}", s.get("mailbox.empty")), style));
    }
    for (i, v) in list.iter().enumerate() {
        let secs = v.duration_ms.div_ceil(1000);
        let when = v
            .created_at
            .with_timezone(&chrono::Local)
            .format("%d %b %H:%M");
        let mark = if app.playing() == Some(v.voicemail_id.as_str()) {
            s.get("mailbox.playing")
        } else if v.heard {
            ""
        } else {
            s.get("mailbox.new")
        };
        let text = format!(
            " {} {}  {when}  {}:{:02}  {mark}",
            if i == selected { "▸" } else { " " },
            app.display_name(&v.from),
            secs / 60,
            secs % 60,
        );
        let mut st = style;
        if i == selected {
            st = st.add_modifier(Modifier::REVERSED);
        }
        if !v.heard {
            st = st.add_modifier(Modifier::BOLD);
        }
        lines.push(Line::styled(text, st));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(format!(" {}", s.get("mailbox.keys")), style));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", s.get("mailbox.title")))
        .style(style);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn leave_voicemail(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    who: &str,
    ringing: bool,
    since: Option<chrono::DateTime<chrono::Utc>>,
) {
    let s = app.strings();
    let area = centered(frame.area(), 56, 7);
    frame.render_widget(Clear, area);
    let style = theme.style("launcher");
    let (question, keys) = match since {
        None if ringing => (
            s.fmt("leave_voicemail.offline", &[("who", who)]),
            s.get("leave_voicemail.offline_keys").to_owned(),
        ),
        None => (
            s.fmt("leave_voicemail.question", &[("who", who)]),
            s.get("leave_voicemail.keys").to_owned(),
        ),
        Some(t) => {
            let secs = (app.now() - t).num_seconds().max(0);
            (
                s.fmt(
                    "leave_voicemail.recording",
                    &[("s", &format!("{}:{:02}", secs / 60, secs % 60))],
                ),
                s.get("leave_voicemail.recording_keys").to_owned(),
            )
        }
    };
    let lines = vec![
        Line::raw(""),
        Line::styled(format!(" {question}"), style.add_modifier(Modifier::BOLD)),
        Line::raw(""),
        Line::styled(format!(" {keys}"), style),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(
            " {} ",
            s.get(if ringing && since.is_none() {
                "leave_voicemail.offline_title"
            } else {
                "leave_voicemail.title"
            })
        ))
        .style(style);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
