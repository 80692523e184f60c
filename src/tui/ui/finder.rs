//! The quick switcher and the search window.

use chrono::Local;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::overlays::centered;
use super::{list_lines, truncate};
use crate::tui::app::{App, HandOver, SearchState, SwitchPurpose, SwitchTarget};
use crate::tui::theme::Theme;

/// The query line: what was typed, and where the next key goes.
fn query_line(query: &str, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(" > ", theme.style("headerButton")),
        Span::raw(query.to_owned()),
        Span::styled(
            " ",
            theme.style("headerButton").add_modifier(Modifier::REVERSED),
        ),
    ])
}

fn window<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("headerButton"))
        .title(format!(" {title} "))
        .style(theme.style("body"))
}

pub(super) fn switcher(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    query: &str,
    selected: usize,
    purpose: &SwitchPurpose,
) {
    let height = frame.area().height.saturating_sub(4).min(18);
    let area = centered(frame.area(), 64, height);
    frame.render_widget(Clear, area);
    let s = app.strings();
    let (title, hint) = match purpose {
        SwitchPurpose::Open => (s.get("switcher.title").to_owned(), s.get("switcher.hint")),
        SwitchPurpose::HandOver { room_id, op } => {
            let who = app
                .calls()
                .iter()
                .find(|c| c.view.call.room_id == *room_id)
                .map(|c| app.call_peers(&c.view))
                .unwrap_or_default();
            match op {
                HandOver::Forward => (
                    s.fmt("switcher.forward_title", &[("who", &who)]),
                    s.get("switcher.forward_hint"),
                ),
                HandOver::Transfer => (
                    s.fmt("switcher.transfer_title", &[("who", &who)]),
                    s.get("switcher.transfer_hint"),
                ),
            }
        }
    };
    let block = window(title, theme);
    let inner = block.inner(area);
    let width = inner.width as usize;
    let items = app.switcher_items_for(purpose, query);
    let handing_over = matches!(purpose, SwitchPurpose::HandOver { .. });
    let mut lines = vec![query_line(query, theme)];
    // The hint wraps rather than lose its keys.
    lines.extend(
        super::wrap(hint, width.saturating_sub(1))
            .into_iter()
            .map(|l| Line::styled(format!(" {l}"), theme.style("border"))),
    );
    if items.is_empty() {
        lines.push(Line::styled(
            format!(" {}", s.get("switcher.none")),
            theme.style("border"),
        ));
    }
    let room = (inner.height as usize).saturating_sub(lines.len());
    let line = |item: &crate::tui::app::SwitchItem| {
        // Whom a call is handed to shows whether they can take it.
        let presence;
        let kind = match &item.target {
            SwitchTarget::Channel(_) => "",
            SwitchTarget::User(u) if handing_over => {
                presence = app.presence_of(u).map_or_else(String::new, |p| {
                    format!(
                        "{} {}",
                        super::presence_mark(p),
                        super::presence_words(app, p)
                    )
                });
                presence.as_str()
            }
            SwitchTarget::User(_) => s.get("switcher.new_direct"),
        };
        let label = truncate(
            &format!(" {}", item.label),
            width.saturating_sub(kind.len() + 2),
        );
        Line::from(vec![
            Span::raw(label),
            Span::styled(format!("  {kind}"), theme.style("border")),
        ])
    };
    lines.extend(list_lines(&items, line, selected, true, room, theme));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn search(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    query: &str,
    state: &SearchState,
    selected: usize,
) {
    let height = frame.area().height.saturating_sub(4).min(18);
    let area = centered(frame.area(), 72, height);
    frame.render_widget(Clear, area);
    let s = app.strings();
    let channel = app
        .current_channel()
        .map(|c| app.channel_title(c))
        .unwrap_or_default();
    let block = window(s.fmt("search.title", &[("channel", &channel)]), theme);
    let inner = block.inner(area);
    let width = inner.width as usize;
    let mut lines = vec![query_line(query, theme)];
    let note =
        |text: String| Line::styled(truncate(&format!(" {text}"), width), theme.style("border"));
    match state {
        SearchState::Typing => lines.push(note(s.get("search.hint").to_owned())),
        SearchState::Searching => lines.push(note(s.get("search.searching").to_owned())),
        SearchState::Failed(why) => lines.extend(
            super::wrap(why, width.saturating_sub(1))
                .into_iter()
                .map(|l| Line::styled(format!(" {l}"), theme.style("error"))),
        ),
        SearchState::Results(rows) if rows.is_empty() => {
            lines.push(note(s.fmt("search.none", &[("text", query)])));
        }
        SearchState::Results(rows) => {
            lines.push(note(
                s.fmt("search.found", &[("n", &rows.len().to_string())]),
            ));
            let room = (inner.height as usize).saturating_sub(lines.len());
            let line = |r: &crate::tui::app::MessageRow| {
                let when = r.at.with_timezone(&Local).format("%m-%d %H:%M").to_string();
                let who = app.display_name(&r.sender);
                let head = format!(" {when} {who}: ");
                let rest = width.saturating_sub(head.chars().count());
                Line::from(vec![
                    Span::styled(head, Style::default().add_modifier(Modifier::DIM)),
                    Span::raw(truncate(&r.text, rest)),
                ])
            };
            lines.extend(list_lines(rows, line, selected, true, room, theme));
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn new_group(frame: &mut Frame, app: &App, theme: &Theme, text: &str) {
    let area = centered(frame.area(), 64, 7);
    frame.render_widget(Clear, area);
    let s = app.strings();
    let block = window(s.get("group.title").to_owned(), theme);
    let width = area.width.saturating_sub(2) as usize;
    let ready = crate::tui::app::parse_group(text).is_some();
    let lines = vec![
        query_line(text, theme),
        Line::raw(""),
        Line::styled(
            truncate(&format!(" {}", s.get("group.hint")), width),
            theme.style("border"),
        ),
        Line::styled(
            truncate(
                &format!(
                    " {}",
                    s.get(if ready { "group.ready" } else { "group.needs" })
                ),
                width,
            ),
            theme.style("border"),
        ),
    ];
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
