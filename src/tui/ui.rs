//! Drawing: a pure function of the [`App`] state and the [`Theme`]. The chat view draws
//! only the messages that fit, newest at the bottom, so a channel with a hundred thousand
//! messages costs no more to draw than one with ten.

use chrono::{DateTime, Local, Utc};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Sparkline, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::app::{reason_key, App, Areas, CallRow, Delivery, Modal, Pane};
use super::keymap::{Action, Mode};
use super::theme::Theme;
use crate::client::call::CallState;
use crate::proto::PresenceStatus;

/// Where everything goes on a screen of `area`.
pub struct Screen {
    pub header: Rect,
    pub channels: Rect,
    pub users: Rect,
    pub calls: Rect,
    pub chat: Rect,
    pub composer: Rect,
    pub call_bar: Option<Rect>,
    pub status: Rect,
}

pub fn layout(area: Rect, has_call: bool) -> Screen {
    let bar = if has_call { 3 } else { 0 };
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(bar),
            Constraint::Length(1),
        ])
        .split(area);
    let left_width = (area.width / 3).clamp(24, 40);
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Length(left_width), Constraint::Min(20)])
        .split(rows[1]);
    let left = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Percentage(45),
            Constraint::Percentage(35),
            Constraint::Min(3),
        ])
        .split(cols[0]);
    let composer_height = if area.height >= 40 { 5 } else { 3 };
    let right = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(composer_height)])
        .split(cols[1]);
    Screen {
        header: rows[0],
        channels: left[0],
        users: left[1],
        calls: left[2],
        chat: right[0],
        composer: right[1],
        call_bar: has_call.then_some(rows[2]),
        status: rows[3],
    }
}

/// Where the mouse finds the panes, for a screen of `area`.
pub fn areas(app: &App, area: Rect) -> Areas {
    let s = layout(area, !app.calls().is_empty());
    Areas {
        channels: s.channels,
        users: s.users,
        calls: s.calls,
        chat: s.chat,
        composer: s.composer,
    }
}

pub fn render(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.style("body")), area);
    let s = layout(area, !app.calls().is_empty());
    header(frame, app, theme, s.header);
    channels(frame, app, theme, s.channels);
    users(frame, app, theme, s.users);
    calls(frame, app, theme, s.calls);
    chat(frame, app, theme, s.chat);
    composer(frame, app, theme, s.composer);
    if let (Some(bar), Some(call)) = (s.call_bar, app.active_call()) {
        call_bar(frame, app, theme, bar, call);
    }
    status(frame, app, theme, s.status);
    match app.modal() {
        Some(Modal::Help { scroll }) => help(frame, app, theme, *scroll),
        Some(Modal::Incoming { room_id }) => incoming(frame, app, theme, room_id),
        Some(Modal::Dialpad { sent, .. }) => dialpad(frame, app, theme, sent),
        None => {}
    }
    toasts(frame, app, theme);
}

fn pane_block<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    let title_style = if focused {
        theme.style("headerButton")
    } else {
        theme.style("border").add_modifier(Modifier::BOLD)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.style("headerButton")
        } else {
            theme.style("border")
        })
        .title(Span::styled(format!(" {title} "), title_style))
}

fn presence_word(app: &App, status: PresenceStatus, busy_with: &[String]) -> String {
    match status {
        PresenceStatus::Online => app.strings().get("presence.online").to_owned(),
        PresenceStatus::Offline => app.strings().get("presence.offline").to_owned(),
        PresenceStatus::Busy if busy_with.is_empty() => {
            app.strings().get("presence.busy").to_owned()
        }
        PresenceStatus::Busy => {
            let who: Vec<String> = busy_with.iter().map(|u| app.display_name(u)).collect();
            app.strings()
                .fmt("presence.busy_with", &[("who", &who.join(", "))])
        }
    }
}

fn presence_mark(status: PresenceStatus) -> &'static str {
    match status {
        PresenceStatus::Online => "●",
        PresenceStatus::Busy => "◐",
        PresenceStatus::Offline => "○",
    }
}

fn header(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut spans = vec![Span::styled(" parla ", theme.style("headerButton"))];
    if !app.me().is_empty() {
        let presence = app.presence_of(app.me()).map_or_else(
            || app.strings().get("presence.online").to_owned(),
            |p| presence_word(app, p.status, &p.busy_with),
        );
        spans.push(Span::raw(format!(
            " {} · {presence}",
            app.display_name(app.me())
        )));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.style("header")),
        area,
    );
}

/// Cuts `text` to `width` columns, with an ellipsis when cut.
pub fn truncate(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let c = if c == '\n' { ' ' } else { c };
        let w = c.width().unwrap_or(0);
        if used + w > width {
            if width > 0 {
                while used + 1 > width {
                    if let Some(last) = out.pop() {
                        used -= last.width().unwrap_or(0);
                    } else {
                        break;
                    }
                }
                out.push('…');
            }
            return out;
        }
        used += w;
        out.push(c);
    }
    out
}

/// The lines of a list pane: only the window that keeps the selection in view is built.
fn list_lines<T>(
    items: &[T],
    line: impl Fn(&T) -> Line<'static>,
    selected: usize,
    focused: bool,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let start = selected.saturating_sub(height.saturating_sub(1));
    items
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, item)| {
            let l = line(item);
            if i == selected && focused {
                l.style(theme.style("selection"))
            } else {
                l
            }
        })
        .collect()
}

/// A list pane: its border and title, and the window of items that keeps the selection in
/// view.
#[allow(clippy::too_many_arguments)]
fn list_pane<T>(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    area: Rect,
    pane: Pane,
    title: String,
    items: &[T],
    line: impl Fn(&T) -> Line<'static>,
) {
    let focused = app.focus() == pane && app.modal().is_none();
    let height = area.height.saturating_sub(2) as usize;
    let lines = list_lines(items, line, app.selection(pane), focused, height, theme);
    frame.render_widget(
        Paragraph::new(lines).block(pane_block(title, focused, theme)),
        area,
    );
}

fn channels(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let inner_w = area.width.saturating_sub(2) as usize;
    let channels = app.visible_channels();
    let line = |c: &&crate::proto::Channel| {
        let title = app.channel_title(c);
        let open = app.current() == Some(c.channel_id.as_str());
        let unread = if c.unread_count > 0 {
            format!(" {}", c.unread_count)
        } else {
            String::new()
        };
        let preview = c
            .last_message
            .as_ref()
            .map(|m| format!("  {}", m.text))
            .unwrap_or_default();
        let marker = if open { "▸" } else { " " };
        let head = format!("{marker}{title}");
        let room = inner_w.saturating_sub(head.chars().count() + unread.chars().count());
        let mut spans = vec![Span::styled(
            head,
            if c.unread_count > 0 {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            },
        )];
        if !unread.is_empty() {
            spans.push(Span::styled(unread, theme.style("launcher")));
        }
        spans.push(Span::styled(
            truncate(&preview, room),
            theme.style("border"),
        ));
        Line::from(spans)
    };
    let title = app.strings().get("pane.channels").to_owned();
    list_pane(
        frame,
        app,
        theme,
        area,
        Pane::Channels,
        title,
        &channels,
        line,
    );
}

fn users(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let inner_w = area.width.saturating_sub(2) as usize;
    let people = app.visible_users();
    let line = |u: &&crate::proto::UserEntry| {
        let word = presence_word(app, u.presence.status, &u.presence.busy_with);
        let name = truncate(
            &format!("{} {}", presence_mark(u.presence.status), u.display_name),
            inner_w,
        );
        let room = inner_w.saturating_sub(name.chars().count() + 1);
        let style = match u.presence.status {
            PresenceStatus::Offline => theme.style("border"),
            PresenceStatus::Busy => theme.style("call"),
            PresenceStatus::Online => Style::default(),
        };
        Line::from(vec![
            Span::styled(name, style),
            Span::styled(format!(" {}", truncate(&word, room)), theme.style("border")),
        ])
    };
    let mut title = app.strings().get("pane.users").to_owned();
    if app.filtering() || !app.filter().is_empty() {
        title = format!(
            "{title} · {}",
            app.strings()
                .fmt("filter.prompt", &[("text", app.filter())])
        );
    }
    list_pane(frame, app, theme, area, Pane::Users, title, &people, line);
}

/// `mm:ss` (or `h:mm:ss`) since a call connected.
pub fn duration_text(app: &App, c: &CallRow) -> String {
    let secs = c.view.duration(app.now()).num_seconds().max(0);
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    } else {
        format!("{:02}:{:02}", secs / 60, secs % 60)
    }
}

/// What a call is doing, in words.
pub fn call_state_text(app: &App, c: &CallRow) -> String {
    let who = app.call_peers(&c.view);
    let s = &app.strings();
    match c.view.state {
        CallState::Dialing => s.fmt("call.dialing", &[("who", &who)]),
        CallState::Ringing => s.fmt("call.ringing", &[("who", &who)]),
        CallState::Connecting => s.fmt("call.connecting", &[("who", &who)]),
        CallState::Connected => s.fmt("call.connected", &[("who", &who)]),
        CallState::OnHold {
            local: true,
            remote: true,
        } => s.fmt("call.on_hold_both", &[("who", &who)]),
        CallState::OnHold { local: true, .. } => s.fmt("call.on_hold_local", &[("who", &who)]),
        CallState::OnHold { .. } => s.fmt("call.on_hold_remote", &[("who", &who)]),
        CallState::Ended { reason } => s.fmt(
            "call.ended",
            &[("who", &who), ("reason", s.get(&reason_key(reason)))],
        ),
    }
}

fn calls(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let inner_w = area.width.saturating_sub(2) as usize;
    let title = app.strings().get("pane.calls").to_owned();
    if app.calls().is_empty() {
        let none = [app.strings().get("call.none").to_owned()];
        let line = |t: &String| Line::styled(t.clone(), theme.style("border"));
        list_pane(frame, app, theme, area, Pane::Calls, title, &none, line);
        return;
    }
    let line = |(i, c): &(usize, &CallRow)| {
        let marker = if *i == app.current_call() { "▸" } else { " " };
        let timer = if c.view.connected_at.is_some() {
            format!(" {}", duration_text(app, c))
        } else {
            String::new()
        };
        let text = format!("{marker}{}{timer}", call_state_text(app, c));
        Line::styled(truncate(&text, inner_w), theme.style("call"))
    };
    let calls: Vec<(usize, &CallRow)> = app.calls().iter().enumerate().collect();
    list_pane(frame, app, theme, area, Pane::Calls, title, &calls, line);
}

/// Splits `text` into lines of at most `width` columns (at spaces where it can).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split_inclusive(' ') {
            let w: usize = word.chars().map(|c| c.width().unwrap_or(0)).sum();
            if used + w > width && used > 0 {
                out.push(std::mem::take(&mut line).trim_end().to_owned());
                used = 0;
            }
            if w > width {
                // A word longer than the line: cut it.
                for c in word.chars() {
                    let cw = c.width().unwrap_or(0);
                    if used + cw > width {
                        out.push(std::mem::take(&mut line));
                        used = 0;
                    }
                    line.push(c);
                    used += cw;
                }
            } else {
                line.push_str(word);
                used += w;
            }
        }
        out.push(line.trim_end().to_owned());
    }
    out
}

fn day_label(app: &App, at: DateTime<Utc>) -> String {
    let day = at.with_timezone(&Local).date_naive();
    let today = app.now().with_timezone(&Local).date_naive();
    if day == today {
        app.strings().get("day.today").to_owned()
    } else if today.pred_opt() == Some(day) {
        app.strings().get("day.yesterday").to_owned()
    } else {
        day.format("%Y-%m-%d").to_string()
    }
}

/// The lines that fill the chat view, newest at the bottom, `scroll` messages up from the
/// newest. Only as many messages as fit are looked at.
pub fn chat_lines(app: &App, theme: &Theme, width: usize, height: usize) -> Vec<Line<'static>> {
    let Some(id) = app.current() else {
        return Vec::new();
    };
    let Some(log) = app.log(id) else {
        return Vec::new();
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    let end = log.rows.len().saturating_sub(log.scroll);
    let mut i = end;
    while i > 0 && lines.len() < height {
        i -= 1;
        let row = &log.rows[i];
        let mine = row.sender == app.me();
        let style = if mine {
            theme.style("messageSent")
        } else {
            theme.style("messageReceived")
        };
        let mut block: Vec<Line<'static>> = Vec::new();
        // A day separator above the first message of each day.
        let new_day = i == 0
            || log.rows[i - 1].at.with_timezone(&Local).date_naive()
                != row.at.with_timezone(&Local).date_naive();
        if new_day {
            let label = format!(" {} ", day_label(app, row.at));
            let fill = width.saturating_sub(label.chars().count()) / 2;
            block.push(Line::styled(
                format!("{}{label}{}", "─".repeat(fill), "─".repeat(fill)),
                Style::default().add_modifier(Modifier::DIM),
            ));
        }
        let time = row.at.with_timezone(&Local).format("%H:%M").to_string();
        let delivery = match &row.delivery {
            Delivery::Sent => String::new(),
            Delivery::Pending => format!("  {}", app.strings().get("delivery.pending")),
            Delivery::Failed { code } => {
                format!(
                    "  {}",
                    app.strings().fmt("delivery.failed", &[("code", code)])
                )
            }
        };
        let failed = matches!(row.delivery, Delivery::Failed { .. });
        block.push(Line::from(vec![
            Span::styled(
                app.display_name(&row.sender),
                style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("  {time}"),
                Style::default().add_modifier(Modifier::DIM),
            ),
            Span::styled(
                delivery,
                if failed {
                    theme.style("error")
                } else {
                    Style::default().add_modifier(Modifier::DIM)
                },
            ),
        ]));
        for l in wrap(&row.text, width.saturating_sub(2)) {
            block.push(Line::from(Span::styled(format!("  {l}"), style)));
        }
        for l in block.into_iter().rev() {
            lines.push(l);
        }
    }
    lines.truncate(height);
    lines.reverse();
    lines
}

fn chat(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let focused = app.focus() == Pane::Chat && !app.composing() && app.modal().is_none();
    let title = match app.current_channel() {
        Some(c) => app.channel_title(c),
        None => app.strings().get("pane.no_channel").to_owned(),
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.current().is_none() {
        frame.render_widget(
            Paragraph::new(app.strings().get("hint.no_channel").to_owned())
                .style(theme.style("border"))
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let mut lines = chat_lines(app, theme, inner.width as usize, inner.height as usize);
    if lines.is_empty() {
        lines.push(Line::styled(
            app.strings().get("hint.empty_channel").to_owned(),
            theme.style("border"),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn composer(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let focused = app.composing() && app.modal().is_none();
    let draft = app
        .current()
        .and_then(|c| app.draft(c))
        .unwrap_or_default()
        .to_owned();
    let mut title = app.strings().get("pane.composer").to_owned();
    if focused {
        let hints = key_hints(
            app,
            Mode::Composer,
            &[Action::Send, Action::Newline, Action::Cancel],
        );
        title = format!("{title} · {hints}");
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    let width = inner.width.saturating_sub(1) as usize;
    for l in draft.split('\n') {
        for w in wrap(l, width) {
            lines.push(Line::raw(w));
        }
    }
    if focused {
        match lines.last_mut() {
            Some(last) => last.push_span(Span::styled("▏", theme.style("headerButton"))),
            None => lines.push(Line::styled("▏", theme.style("headerButton"))),
        }
    }
    // Keep the end of a long draft in view.
    let skip = lines.len().saturating_sub(inner.height as usize);
    frame.render_widget(Paragraph::new(lines.split_off(skip)), inner);
}

/// `key label · key label` for some actions of a mode, from the keymap.
pub fn key_hints(app: &App, mode: Mode, actions: &[Action]) -> String {
    actions
        .iter()
        .filter_map(|a| {
            let key = app.keymap().key_for(mode, *a)?;
            Some(format!(
                "{key} {}",
                app.strings().get(&format!("action.{}", a.as_str()))
            ))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A score as whole tenths, from 0 to 100.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to 0..=100 first
fn tenths(v: f64) -> u64 {
    (v * 10.0).clamp(0.0, 100.0) as u64
}

/// A level meter: eight cells from -60 dBFS to 0.
fn meter(dbfs: f64) -> String {
    // A cell per 7.5 dB, lit from half-way (rounding to the nearest cell).
    let level = (dbfs + 60.0) / 7.5;
    let filled = (1..=8u8).filter(|i| level >= f64::from(*i) - 0.5).count();
    format!("{}{}", "▮".repeat(filled), "▯".repeat(8 - filled))
}

fn call_bar(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, c: &CallRow) {
    let style = theme.style("call");
    frame.render_widget(Block::default().style(style), area);
    let spark_width = if area.width >= 120 { 24 } else { 10 };
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Min(30), Constraint::Length(spark_width)])
        .split(area);
    let mut first = call_state_text(app, c);
    if c.view.connected_at.is_some() {
        first = format!("{first} · {}", duration_text(app, c));
    }
    if c.muted {
        first = format!("{first} · {}", app.strings().get("call.muted"));
    }
    if app.calls().len() > 1 {
        first = format!("{first} · {}/{}", app.current_call() + 1, app.calls().len());
    }
    let second = match &c.stats {
        Some(s) => {
            let stats = app.strings().fmt(
                "call.stats",
                &[
                    (
                        "rtt",
                        &s.rtt_ms.map_or("-".into(), |r| format!("{r:.0} ms")),
                    ),
                    ("loss", &format!("{:.1}", s.loss_pct)),
                    ("jitter", &format!("{:.0}", s.jitter_ms)),
                    ("mos", &s.mos.map_or("-".into(), |m| format!("{m:.1}"))),
                ],
            );
            let dropouts = s.device_overruns + s.device_underruns;
            let dropouts = if dropouts > 0 {
                format!(
                    " · {}",
                    app.strings()
                        .fmt("call.dropouts", &[("n", &dropouts.to_string())])
                )
            } else {
                String::new()
            };
            // Playout steps: time stretched or compressed to follow the network.
            let steps = s.playout_stretched_ms + s.playout_compressed_ms;
            let dropouts = if steps >= 1.0 {
                format!(
                    "{dropouts} · {}",
                    app.strings()
                        .fmt("call.steps", &[("ms", &format!("{steps:.0}"))])
                )
            } else {
                dropouts
            };
            format!(
                "{} {} {} {} · {stats}{dropouts}",
                app.strings().get("call.mic"),
                meter(s.send_level_dbfs),
                app.strings().get("call.speaker"),
                meter(s.recv_level_dbfs)
            )
        }
        None => String::new(),
    };
    let mut actions = vec![
        Action::HangUp,
        Action::ToggleHold,
        Action::ToggleMute,
        Action::Dialpad,
    ];
    if app.calls().len() > 1 {
        actions.push(Action::SwitchCall);
    }
    let hints = key_hints(app, Mode::Global, &actions);
    let w = cols[0].width as usize;
    let lines = vec![
        Line::styled(
            truncate(&format!(" {first}"), w),
            style.add_modifier(Modifier::BOLD),
        ),
        Line::styled(truncate(&format!(" {second}"), w), style),
        Line::styled(truncate(&format!(" {hints}"), w), style),
    ];
    frame.render_widget(Paragraph::new(lines), cols[0]);
    // Call quality over the last minute: MOS from 1 to 4.5, as tenths.
    let data: Vec<u64> = c.quality.iter().map(|m| tenths(m - 1.0)).collect();
    let spark = Sparkline::default()
        .data(&data)
        .max(35)
        .style(style)
        .block(Block::default().borders(Borders::LEFT).border_style(style));
    frame.render_widget(spark, cols[1]);
}

fn status(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    use crate::client::session::ConnectionState as C;
    let s = &app.strings();
    let conn = match &app.connection() {
        C::Connecting => s.get("conn.connecting").to_owned(),
        C::Connected => app
            .status_note()
            .map_or_else(|| s.get("conn.connected").to_owned(), str::to_owned),
        C::Reconnecting {
            attempt,
            retry_in_ms,
        } => {
            // Counts down to the attempt.
            let left_ms = match app.reconnect_at() {
                Some(at) => (at - app.now()).num_milliseconds().max(0).cast_unsigned(),
                None => *retry_in_ms,
            };
            s.fmt(
                "conn.reconnecting",
                &[
                    ("secs", &left_ms.div_ceil(1000).to_string()),
                    ("attempt", &attempt.to_string()),
                ],
            )
        }
        C::Failed { message, .. } => s.fmt("conn.failed", &[("message", message)]),
        C::Closed => s.get("conn.closed").to_owned(),
    };
    let conn_style = match &app.connection() {
        C::Connected => theme.style("status"),
        C::Failed { .. } => theme.style("error"),
        _ => theme.style("feedback"),
    };
    let mut audio = s.fmt("audio.backend", &[("backend", app.audio())]);
    if let Some(n) = &app.audio_notice() {
        audio = format!("{audio} ({n})");
    }
    let help = key_hints(app, Mode::Global, &[Action::Help]);
    let mut left = format!(" {conn}");
    if !app.me().is_empty() {
        let presence = app.presence_of(app.me()).map_or_else(
            || app.strings().get("presence.online").to_owned(),
            |p| presence_word(app, p.status, &p.busy_with),
        );
        left = format!("{left} · {} · {presence}", app.me());
    }
    let left = truncate(&left, (area.width as usize).saturating_sub(12));
    let room = (area.width as usize).saturating_sub(left.chars().count() + 2);
    let right = truncate(&format!("{audio} · {help} "), room);
    let pad = (area.width as usize).saturating_sub(left.chars().count() + right.chars().count());
    let line = Line::from(vec![
        Span::styled(left, conn_style),
        Span::styled(" ".repeat(pad), theme.style("status")),
        Span::styled(truncate(&right, area.width as usize), theme.style("status")),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme.style("status")), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn mode_name(app: &App, mode: Mode) -> String {
    app.strings()
        .get(&format!("help.mode.{}", mode.as_str()))
        .to_owned()
}

fn help(frame: &mut Frame, app: &App, theme: &Theme, scroll: u16) {
    let area = centered(frame.area(), 72, frame.area().height.saturating_sub(2));
    frame.render_widget(Clear, area);
    let mut lines: Vec<Line> = Vec::new();
    let mut last_mode = None;
    let mut help = app.keymap().help();
    help.sort_by_key(|(m, _, _)| *m);
    // One line per action and mode, its keys together.
    let mut rows: Vec<(Mode, Vec<String>, String)> = Vec::new();
    for (mode, key, binding) in help {
        match rows
            .iter_mut()
            .find(|(m, _, d)| *m == mode && *d == binding.desc)
        {
            Some((_, keys, _)) => keys.push(key.to_string()),
            None => rows.push((mode, vec![key.to_string()], binding.desc.clone())),
        }
    }
    for (mode, keys, desc) in rows {
        if last_mode != Some(mode) {
            if last_mode.is_some() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(
                mode_name(app, mode),
                theme.style("headerButton"),
            ));
            last_mode = Some(mode);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<18}", keys.join(", ")), theme.style("dial")),
            Span::raw(format!(" {desc}")),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("headerButton"))
        .title(format!(" {} ", app.strings().get("help.title")))
        .style(theme.style("body"));
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

fn incoming(frame: &mut Frame, app: &App, theme: &Theme, room_id: &str) {
    let area = centered(frame.area(), 50, 7);
    frame.render_widget(Clear, area);
    let who = app
        .calls()
        .iter()
        .find(|c| c.view.call.room_id == room_id)
        .map(|c| app.call_peers(&c.view))
        .unwrap_or_default();
    let hints = key_hints(
        app,
        Mode::Incoming,
        &[Action::Answer, Action::Decline, Action::DeclineBusy],
    );
    let silence = app
        .keymap()
        .key_for(Mode::Incoming, Action::Cancel)
        .map(|k| format!(" · {k} {}", app.strings().get("action.silence")))
        .unwrap_or_default();
    let lines = vec![
        Line::raw(""),
        Line::styled(
            format!(" {}", app.strings().fmt("incoming.from", &[("who", &who)])),
            theme.style("launcher").add_modifier(Modifier::BOLD),
        ),
        Line::raw(""),
        Line::styled(format!(" {hints}{silence}"), theme.style("launcher")),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", app.strings().get("incoming.title")))
        .style(theme.style("launcher"));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn dialpad(frame: &mut Frame, app: &App, theme: &Theme, sent: &str) {
    let area = centered(frame.area(), 34, 12);
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

fn toasts(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let width = (area.width / 2).clamp(20, 50);
    for (i, t) in app.toasts().iter().enumerate() {
        let y = (area.y + 1).saturating_add(u16::try_from(i).unwrap_or(u16::MAX).saturating_mul(3));
        if y.saturating_add(3) > area.bottom() {
            break;
        }
        let rect = Rect::new(area.right().saturating_sub(width + 1), y, width, 3);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(truncate(&t.text, width.saturating_sub(2) as usize))
                .block(Block::default().borders(Borders::ALL))
                .style(theme.style("feedback")),
            rect,
        );
    }
}

/// The text of a drawn buffer, one line per row (for tests, the demo script and the
/// control socket's screen dump).
pub fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            if let Some(cell) = buffer.cell((x, y)) {
                line.push_str(cell.symbol());
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
