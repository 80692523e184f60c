//! The chat pane and the composer: messages newest at the bottom, drawn only as far as
//! they fit, grouped by sender; the draft with its cursor.

use chrono::{DateTime, Local, Utc};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{key_hints, pane_block};
use crate::tui::app::{App, ChannelLog, Delivery, Pane};
use crate::tui::keymap::{Action, Mode};
use crate::tui::theme::Theme;

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

/// Messages from one sender closer together than this share one header.
const GROUP_MINUTES: i64 = 5;

fn same_day(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    a.with_timezone(&Local).date_naive() == b.with_timezone(&Local).date_naive()
}

/// A line across the pane with a label in the middle.
fn rule(label: &str, width: usize, style: Style) -> Line<'static> {
    let label = format!(" {label} ");
    let fill = width.saturating_sub(label.chars().count()) / 2;
    Line::styled(
        format!("{}{label}{}", "─".repeat(fill), "─".repeat(fill)),
        style,
    )
}

/// The lines of message `i` of `log`, top to bottom: the day's separator above the first
/// message of a day, the unread line above the first unread one, the sender and time
/// (unless the message follows one of the same sender's within a few minutes), the text.
fn message_block(
    app: &App,
    theme: Option<&Theme>,
    log: &ChannelLog,
    i: usize,
    width: usize,
) -> Vec<Line<'static>> {
    let style_of = |name: &str| theme.map_or_else(Style::default, |t| t.style(name));
    let row = &log.rows[i];
    let prev = i.checked_sub(1).map(|p| &log.rows[p]);
    let mine = row.sender == app.me();
    let style = if mine {
        style_of("messageSent")
    } else {
        style_of("messageReceived")
    };
    let mut block: Vec<Line<'static>> = Vec::new();
    let new_day = prev.is_none_or(|p| !same_day(p.at, row.at));
    if new_day {
        block.push(rule(
            &day_label(app, row.at),
            width,
            Style::default().add_modifier(Modifier::DIM),
        ));
    }
    let unread_line = log.unread_after.is_some_and(|after| {
        row.seq.is_some_and(|s| s > after) && prev.is_none_or(|p| p.seq.is_some_and(|s| s <= after))
    });
    if unread_line {
        block.push(rule(
            app.strings().get("chat.unread"),
            width,
            style_of("error"),
        ));
    }
    let grouped = !new_day
        && !unread_line
        && row.delivery == Delivery::Sent
        && prev.is_some_and(|p| {
            p.sender == row.sender && (row.at - p.at).num_minutes().abs() < GROUP_MINUTES
        });
    if !grouped {
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
        let delivery_style = if failed {
            style_of("error")
        } else {
            Style::default().add_modifier(Modifier::DIM)
        };
        let name = app.display_name(&row.sender);
        let mut head = vec![
            Span::styled(name.clone(), style.add_modifier(Modifier::BOLD)),
            Span::styled(
                format!("  {time}"),
                Style::default().add_modifier(Modifier::DIM),
            ),
        ];
        // The delivery state (with its retry key) goes below when the line is too short.
        let head_width = name.width() + time.width() + 2 + delivery.width();
        let below = if head_width > width {
            wrap(delivery.trim_start(), width.saturating_sub(2))
        } else {
            head.push(Span::styled(delivery, delivery_style));
            Vec::new()
        };
        block.push(Line::from(head));
        for l in below {
            block.push(Line::styled(format!("  {l}"), delivery_style));
        }
    }
    for l in wrap(&row.text, width.saturating_sub(2)) {
        block.push(Line::from(Span::styled(format!("  {l}"), style)));
    }
    block
}

/// How far the open channel scrolls (in messages from the newest) before its oldest
/// loaded message reaches the top of a pane `width` x `height`: the view stops there.
pub fn chat_top(app: &App, width: usize, height: usize) -> usize {
    let Some(log) = app.current().and_then(|id| app.log(id)) else {
        return 0;
    };
    // Only the messages that fill the pane from the top are measured.
    let mut used = 0;
    for i in 0..log.rows.len() {
        used += message_block(app, None, log, i, width).len();
        if used >= height {
            return log.rows.len() - (i + 1);
        }
    }
    0
}

/// The lines that fill the chat view, newest at the bottom, `scroll` messages up from the
/// newest; once scrolled to the oldest message, it is at the top. Only as many messages as
/// fit are looked at.
pub fn chat_lines(app: &App, theme: &Theme, width: usize, height: usize) -> Vec<Line<'static>> {
    let Some(log) = app.current().and_then(|id| app.log(id)) else {
        return Vec::new();
    };
    let top = chat_top(app, width, height);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if top > 0 && log.scroll >= top {
        for i in 0..log.rows.len() {
            if lines.len() >= height {
                break;
            }
            lines.extend(message_block(app, Some(theme), log, i, width));
        }
        lines.truncate(height);
        return lines;
    }
    let mut i = log.rows.len().saturating_sub(log.scroll);
    while i > 0 && lines.len() < height {
        i -= 1;
        for l in message_block(app, Some(theme), log, i, width)
            .into_iter()
            .rev()
        {
            lines.push(l);
        }
    }
    lines.truncate(height);
    lines.reverse();
    lines
}

pub(super) fn chat(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let focused = app.focus() == Pane::Chat && !app.composing() && !app.modal_takes_keys();
    let title = match app.current_channel() {
        Some(c) => app.channel_title(c),
        None => app.strings().get("pane.no_channel").to_owned(),
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(log) = app.current().and_then(|id| app.log(id)) else {
        let hint = if app.current().is_none() {
            "hint.no_channel"
        } else {
            "hint.empty_channel"
        };
        frame.render_widget(
            Paragraph::new(app.strings().get(hint).to_owned())
                .style(theme.style("border"))
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    // Scrolled up: the bottom line says so, with what came meanwhile and the way back.
    let mark = (log.scroll > 0).then(|| {
        let back = key_hints(app, Mode::Chat, &[Action::ScrollBottom]);
        let text = if log.new_below > 0 {
            app.strings()
                .fmt("chat.new_below", &[("n", &log.new_below.to_string())])
        } else {
            app.strings().get("chat.more_below").to_owned()
        };
        Line::styled(
            super::truncate(&format!("↓ {text} · {back}"), inner.width as usize),
            theme.style("feedback"),
        )
    });
    let height = (inner.height as usize).saturating_sub(usize::from(mark.is_some()));
    let mut lines = chat_lines(app, theme, inner.width as usize, height);
    if lines.is_empty() {
        lines.push(Line::styled(
            app.strings().get("hint.empty_channel").to_owned(),
            theme.style("border"),
        ));
    }
    if let Some(mark) = mark {
        lines.resize(height, Line::raw(""));
        lines.push(mark);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The draft as lines of at most `width` columns (hard-wrapped, so every character keeps
/// its place), with the cursor's line and column among them.
fn composer_lines(text: &str, cursor: usize, width: usize) -> (Vec<String>, (usize, usize)) {
    let width = width.max(1);
    let mut lines = vec![String::new()];
    let mut used = 0;
    let mut at = (0, 0);
    for (i, c) in text.char_indices() {
        if i == cursor {
            at = (lines.len() - 1, used);
        }
        if c == '\n' {
            lines.push(String::new());
            used = 0;
            continue;
        }
        let w = c.width().unwrap_or(0);
        if used + w > width {
            lines.push(String::new());
            used = 0;
            if i == cursor {
                at = (lines.len() - 1, 0);
            }
        }
        if let Some(l) = lines.last_mut() {
            l.push(c);
        }
        used += w;
    }
    if cursor >= text.len() {
        if used >= width {
            lines.push(String::new());
            used = 0;
        }
        at = (lines.len() - 1, used);
    }
    (lines, at)
}

/// A line with the cell at column `col` drawn as the cursor.
fn with_cursor(line: &str, col: usize, style: Style) -> Line<'static> {
    let mut before = String::new();
    let mut under = None;
    let mut after = String::new();
    let mut used = 0;
    for c in line.chars() {
        if under.is_none() && used >= col {
            under = Some(c);
            continue;
        }
        if under.is_some() {
            after.push(c);
        } else {
            before.push(c);
        }
        used += c.width().unwrap_or(0);
    }
    Line::from(vec![
        Span::raw(before),
        Span::styled(under.unwrap_or(' ').to_string(), style),
        Span::raw(after),
    ])
}

pub(super) fn composer(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let focused = app.composing() && !app.modal_takes_keys();
    let (text, cursor) = app
        .composer()
        .map_or((String::new(), 0), |d| (d.text().to_owned(), d.cursor()));
    let mut title = app.strings().get("pane.composer").to_owned();
    // While writing, the keys go on the bottom border, where they have the whole width.
    let hints = if focused && app.composer_normal() {
        title = format!("{title} · {}", app.strings().get("composer.normal"));
        key_hints(
            app,
            Mode::ComposerNormal,
            &[Action::Insert, Action::Send, Action::Cancel],
        )
    } else if focused {
        key_hints(
            app,
            Mode::Composer,
            &[Action::Send, Action::Newline, Action::Cancel],
        )
    } else {
        String::new()
    };
    let mut block = pane_block(title, focused, theme);
    if !hints.is_empty() {
        block = block.title_bottom(Line::styled(
            format!(" {hints} "),
            theme.style("headerButton"),
        ));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (lines, (row, col)) = composer_lines(&text, cursor, inner.width as usize);
    let cursor_style = theme.style("headerButton").add_modifier(Modifier::REVERSED);
    let mut drawn: Vec<Line> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if focused && i == row {
                with_cursor(l, col, cursor_style)
            } else {
                Line::raw(l.clone())
            }
        })
        .collect();
    // Keep the cursor's line in view (the end of a long draft while typing).
    let height = inner.height as usize;
    let skip = (row + 1).saturating_sub(height);
    drawn.drain(..skip.min(drawn.len()));
    if focused {
        if let (Ok(y), Ok(x)) = (u16::try_from(row - skip), u16::try_from(col)) {
            frame.set_cursor_position((inner.x + x, inner.y + y));
        }
    }
    frame.render_widget(Paragraph::new(drawn), inner);
}

#[cfg(test)]
mod tests {
    use super::composer_lines;

    #[test]
    fn the_composer_wraps_hard_and_finds_the_cursor() {
        let (lines, at) = composer_lines("abcdef\ngh", 2, 4);
        assert_eq!(lines, vec!["abcd", "ef", "gh"]);
        assert_eq!(at, (0, 2));
        let (_, at) = composer_lines("abcdef\ngh", 5, 4);
        assert_eq!(at, (1, 1));
        let (_, at) = composer_lines("abcdef\ngh", 9, 4);
        assert_eq!(at, (2, 2), "at the end");
        let (lines, at) = composer_lines("abcd", 4, 4);
        assert_eq!(
            lines,
            vec!["abcd", ""],
            "a full line moves the end cursor down"
        );
        assert_eq!(at, (1, 0));
        let (lines, at) = composer_lines("", 0, 4);
        assert_eq!((lines, at), (vec![String::new()], (0, 0)));
    }
}
