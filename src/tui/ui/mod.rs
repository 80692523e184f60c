//! Drawing: a pure function of the [`App`] state and the [`Theme`]. The chat view draws
//! only the messages that fit, newest at the bottom, so a channel with a hundred thousand
//! messages costs no more to draw than one with ten.

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::app::{App, Areas, Modal, Pane};
use super::keymap::{Action, Mode};
use super::theme::Theme;
use crate::proto::PresenceStatus;

mod calls;
mod chat;
mod finder;
mod help;
mod overlays;
mod presence;
mod voicemail;

pub use calls::{call_state_text, duration_text};
pub use chat::{chat_lines, wrap};
use presence::{presence_mark, presence_words};

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
    let left_width = (area.width / 3).clamp(24, 60);
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
        chat_top: chat::chat_top(
            app,
            s.chat.width.saturating_sub(2) as usize,
            // Scrolled up, the pane's last line is the "more below" mark.
            s.chat.height.saturating_sub(3) as usize,
        ),
    }
}

pub fn render(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.style("body")), area);
    let s = layout(area, !app.calls().is_empty());
    header(frame, app, theme, s.header);
    channels(frame, app, theme, s.channels);
    users(frame, app, theme, s.users);
    calls::calls(frame, app, theme, s.calls);
    chat::chat(frame, app, theme, s.chat);
    chat::composer(frame, app, theme, s.composer);
    if let (Some(bar), Some(call)) = (s.call_bar, app.active_call()) {
        calls::call_bar(frame, app, theme, bar, call);
    }
    status(frame, app, theme, s.status);
    match app.modal() {
        Some(Modal::Help { scroll, filter }) => help::help(frame, app, theme, *scroll, filter),
        Some(Modal::Incoming { room_id }) => overlays::incoming(frame, app, theme, room_id),
        Some(Modal::Dialpad { sent, .. }) => overlays::dialpad(frame, app, theme, sent),
        Some(Modal::ConfirmQuit { calls, drafts }) => {
            overlays::confirm_quit(frame, app, theme, *calls, *drafts);
        }
        Some(Modal::Notices { scroll }) => overlays::notices(frame, app, theme, *scroll),
        Some(Modal::NewGroup { text }) => finder::new_group(frame, app, theme, text),
        Some(Modal::Switcher {
            query,
            selected,
            purpose,
        }) => {
            finder::switcher(frame, app, theme, query, *selected, purpose);
        }
        Some(Modal::Search {
            query,
            state,
            selected,
            ..
        }) => finder::search(frame, app, theme, query, state, *selected),
        Some(Modal::Mailbox { selected }) => voicemail::mailbox(frame, app, theme, *selected),
        Some(Modal::Presence(p)) => presence::picker(frame, app, theme, p),
        Some(Modal::LeaveVoicemail {
            who,
            ringing,
            since,
            ..
        }) => {
            voicemail::leave_voicemail(frame, app, theme, who, *ringing, *since);
        }
        None => {}
    }
    // Nothing draws over a window the user is reading or typing into (the help, the
    // notices, the switcher, search, a new group): toasts wait, and stay in the notices.
    if matches!(
        app.modal(),
        None | Some(Modal::Incoming { .. } | Modal::Dialpad { .. })
    ) {
        overlays::toasts(frame, app, theme);
    }
}

pub(super) fn pane_block<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    let title_style = if focused {
        theme.style("headerButton")
    } else {
        theme.style("border").add_modifier(Modifier::BOLD)
    };
    // The focused frame is drawn in the accent colour (the focused title's background),
    // bold; without colours, bold alone against the dim borders of the others.
    let focused_border = Style::default()
        .fg(theme.focus_colour().unwrap_or(ratatui::style::Color::Reset))
        .add_modifier(Modifier::BOLD);
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            focused_border
        } else {
            theme.style("border")
        })
        .title(Span::styled(format!(" {title} "), title_style))
}

/// My presence as others see it: offline while the connection is down.
fn own_presence(app: &App) -> String {
    if *app.connection() != crate::client::session::ConnectionState::Connected {
        return app.strings().get("presence.offline").to_owned();
    }
    app.presence_of(app.me()).map_or_else(
        || app.strings().get("presence.online").to_owned(),
        |p| presence_words(app, p),
    )
}

fn header(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut spans = vec![Span::styled(" parla ", theme.style("headerButton"))];
    if !app.me().is_empty() {
        let presence = own_presence(app);
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
pub(super) fn list_lines<T>(
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
pub(super) fn list_pane<T>(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    area: Rect,
    pane: Pane,
    title: String,
    items: &[T],
    line: impl Fn(&T) -> Line<'static>,
) {
    let focused = app.focus() == pane && !app.modal_takes_keys();
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
        let head = title;
        let room = inner_w.saturating_sub(head.chars().count() + unread.chars().count());
        // The open conversation is underlined; the cursor is the selection alone.
        let mut style = Style::default();
        if c.unread_count > 0 {
            style = style.add_modifier(Modifier::BOLD);
        }
        if open {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        let mut spans = vec![Span::styled(head, style)];
        if !unread.is_empty() {
            spans.push(Span::styled(unread, theme.style("launcher")));
        }
        spans.push(Span::styled(
            truncate(&preview, room),
            theme.style("border"),
        ));
        Line::from(spans)
    };
    let mut title = app.strings().get("pane.channels").to_owned();
    if app.filter_pane() == Pane::Channels && (app.filtering() || !app.filter().is_empty()) {
        title = format!(
            "{title} · {}",
            app.strings()
                .fmt("filter.prompt", &[("text", app.filter())])
        );
    }
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
        let word = presence_words(app, &u.presence);
        // Contacts carry a star (and come first).
        let star = if app.contact_of(&u.user_id).is_some() {
            "★ "
        } else {
            ""
        };
        let name = truncate(
            &format!("{} {star}{}", presence_mark(&u.presence), u.display_name),
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
    if app.filter_pane() == Pane::Users && (app.filtering() || !app.filter().is_empty()) {
        title = format!(
            "{title} · {}",
            app.strings()
                .fmt("filter.prompt", &[("text", app.filter())])
        );
    }
    list_pane(frame, app, theme, area, Pane::Users, title, &people, line);
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
    // Who I am is in the header; here, how others see me.
    if !app.me().is_empty() {
        left = format!("{left} · {}", own_presence(app));
    }
    // Missed calls stay counted here until the Calls pane is visited.
    if app.missed_unseen() > 0 {
        let n = app.missed_unseen().to_string();
        left = format!("{left} · {}", s.fmt("status.missed", &[("n", &n)]));
    }
    // Voice messages not heard yet, until they are.
    if app.voicemail().new_messages_waiting {
        let n = app.voicemail().unheard_voice.to_string();
        left = format!("{left} · {}", s.fmt("status.voicemail", &[("n", &n)]));
    }
    // Notices not read yet, and the key that shows them.
    if app.notices_unseen() > 0 {
        let n = app.notices_unseen().to_string();
        let key = app
            .keymap()
            .key_for(Mode::Global, Action::Notices)
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        left = format!("{left} · {}{key}", s.fmt("status.notices", &[("n", &n)]));
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
