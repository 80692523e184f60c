//! Calls: the Calls pane and the call bar.

use chrono::Local;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::{key_hints, list_pane, truncate};
use crate::client::call::CallState;
use crate::proto::{CallDirection, CallLogEntry};
use crate::tui::app::{reason_key, App, CallRow, Pane};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

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
    state_with(app, c, &app.call_peers(&c.view))
}

/// What a call is doing in at most `width` columns: the names are cut, never the state.
pub fn call_state_fit(app: &App, c: &CallRow, width: usize) -> String {
    let full = call_state_text(app, c);
    if full.width() <= width {
        return full;
    }
    let bare = state_with(app, c, "").width();
    let room = width.saturating_sub(bare).max(1);
    state_with(app, c, &truncate(&app.call_peers(&c.view), room))
}

fn state_with(app: &App, c: &CallRow, who: &str) -> String {
    let s = &app.strings();
    match c.view.state {
        CallState::Dialing => s.fmt("call.dialing", &[("who", who)]),
        CallState::Ringing => s.fmt("call.ringing", &[("who", who)]),
        CallState::Connecting => s.fmt("call.connecting", &[("who", who)]),
        CallState::Connected => s.fmt("call.connected", &[("who", who)]),
        CallState::OnHold {
            local: true,
            remote: true,
        } => s.fmt("call.on_hold_both", &[("who", who)]),
        CallState::OnHold { local: true, .. } => s.fmt("call.on_hold_local", &[("who", who)]),
        CallState::OnHold { .. } => s.fmt("call.on_hold_remote", &[("who", who)]),
        CallState::Ended { reason } => s.fmt(
            "call.ended",
            &[("who", who), ("reason", s.get(&reason_key(reason)))],
        ),
    }
}

/// A row of the Calls pane: a call in progress, or a recent one.
enum CallsRow<'a> {
    Call(usize, &'a CallRow),
    Recent(&'a CallLogEntry),
}

/// A recent call: missed ones as such; others with their direction, how long they lasted
/// or how they ended.
fn recent_text(app: &App, e: &CallLogEntry) -> String {
    let s = app.strings();
    let who: Vec<String> = e.with.iter().map(|u| app.display_name(u)).collect();
    let who = who.join(", ");
    let time = e
        .created_at
        .with_timezone(&Local)
        .format("%H:%M")
        .to_string();
    if e.missed {
        return s.fmt("call.missed", &[("who", &who), ("time", &time)]);
    }
    let arrow = match e.direction {
        CallDirection::Incoming => "←",
        CallDirection::Outgoing => "→",
    };
    let how = if let Some(to) = &e.forwarded_to {
        s.fmt("call.forwarded_to", &[("who", &app.display_name(to))])
    } else if let Some(to) = &e.transferred_to {
        s.fmt("call.transferred_to", &[("who", &app.display_name(to))])
    } else if e.duration_s > 0 {
        format!("{}:{:02}", e.duration_s / 60, e.duration_s % 60)
    } else {
        s.get(&reason_key(e.end_reason)).to_owned()
    };
    format!("{arrow} {who} {time} · {how}")
}

pub(super) fn calls(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let inner_w = area.width.saturating_sub(2) as usize;
    let title = app.strings().get("pane.calls").to_owned();
    if app.calls().is_empty() && app.recent_calls().is_empty() {
        let none = [app.strings().get("call.none").to_owned()];
        let line = |t: &String| Line::styled(t.clone(), theme.style("border"));
        list_pane(frame, app, theme, area, Pane::Calls, title, &none, line);
        return;
    }
    let line = |row: &CallsRow| match row {
        CallsRow::Call(i, c) => {
            let marker = if *i == app.current_call() { "▸" } else { " " };
            let timer = if c.view.connected_at.is_some() {
                format!(" {}", duration_text(app, c))
            } else {
                String::new()
            };
            let room = inner_w.saturating_sub(marker.width() + timer.width());
            let text = format!("{marker}{}{timer}", call_state_fit(app, c, room));
            Line::styled(truncate(&text, inner_w), theme.style("call"))
        }
        CallsRow::Recent(e) => {
            let style = if e.missed && !e.seen {
                theme.style("error")
            } else {
                theme.style("border")
            };
            Line::styled(
                truncate(&format!(" {}", recent_text(app, e)), inner_w),
                style,
            )
        }
    };
    let rows: Vec<CallsRow> = app
        .calls()
        .iter()
        .enumerate()
        .map(|(i, c)| CallsRow::Call(i, c))
        .chain(app.recent_calls().iter().map(CallsRow::Recent))
        .collect();
    list_pane(frame, app, theme, area, Pane::Calls, title, &rows, line);
}

/// The keys the call bar offers: what can be done with the call in its state.
fn call_hints(app: &App, c: &CallRow) -> String {
    let mode = app.mode();
    let mut hints: Vec<(Action, &str)> = Vec::new();
    match c.view.state {
        CallState::Ringing => {
            hints.extend([
                (Action::Answer, "action.answer"),
                (Action::Decline, "action.decline"),
                (Action::DeclineBusy, "action.decline_busy"),
                (Action::Silence, "action.silence"),
            ]);
        }
        CallState::Dialing | CallState::Connecting => {
            hints.push((Action::HangUp, "action.hang_up"));
        }
        _ => {
            hints.push((Action::HangUp, "action.hang_up"));
            hints.push(if c.view.local_hold {
                (Action::ToggleHold, "action.resume")
            } else {
                (Action::ToggleHold, "action.toggle_hold")
            });
            hints.push(if c.muted {
                (Action::ToggleMute, "action.unmute")
            } else {
                (Action::ToggleMute, "action.toggle_mute")
            });
            hints.push((Action::Dialpad, "action.dialpad"));
        }
    }
    if app.calls().len() > 1 {
        hints.push((Action::SwitchCall, "action.switch_call"));
    }
    hints
        .into_iter()
        .filter_map(|(a, label)| {
            let key = app.keymap().key_for(mode, a)?;
            Some(format!("{key} {}", app.strings().get(label)))
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

pub(super) fn call_bar(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, c: &CallRow) {
    // On hold the bar goes quiet (dim, italic); muted, the word stands out.
    let style = if c.view.local_hold || matches!(c.view.state, CallState::OnHold { .. }) {
        theme
            .style("call")
            .add_modifier(Modifier::DIM | Modifier::ITALIC)
    } else {
        theme.style("call")
    };
    frame.render_widget(Block::default().style(style), area);
    let spark_width = if area.width >= 120 { 24 } else { 10 };
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Min(30), Constraint::Length(spark_width)])
        .split(area);
    // The state first, then what goes with it; the names give way when space is short.
    let mut first = String::new();
    if c.view.connected_at.is_some() {
        first = format!("{first} · {}", duration_text(app, c));
    }
    if c.muted {
        first = format!(
            "{first} · {}",
            app.strings().get("call.muted").to_uppercase()
        );
    }
    if !c.dtmf_received.is_empty() {
        first = format!(
            "{first} · {}",
            app.strings()
                .fmt("call.dtmf_received", &[("digits", &c.dtmf_received)])
        );
    }
    if app.calls().len() > 1 {
        first = format!("{first} · {}/{}", app.current_call() + 1, app.calls().len());
    }
    let room = (cols[0].width as usize).saturating_sub(first.width() + 1);
    let first = format!("{}{first}", call_state_fit(app, c, room));
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
    let mut hints = call_hints(app, c);
    // Another call ringing meanwhile: who, and the key that answers it.
    if let Some(r) = app
        .calls()
        .iter()
        .find(|r| r.view.state == CallState::Ringing && r.view.call.room_id != c.view.call.room_id)
    {
        let answer = key_hints(app, app.mode(), &[Action::Answer]);
        let who = app
            .strings()
            .fmt("call.ringing", &[("who", &app.call_peers(&r.view))]);
        hints = format!("{who}: {answer} · {hints}");
    }
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
    // Call quality over the last minute: a label with the latest MOS, then one row of
    // bars (MOS 1 to 4.5 as tenths) in the theme's "good" colour, so a steady call reads
    // as a line rather than a solid block.
    let block = Block::default().borders(Borders::LEFT).border_style(style);
    let inner = block.inner(cols[1]);
    frame.render_widget(block, cols[1]);
    let latest = c
        .quality
        .back()
        .map_or_else(|| "-".to_owned(), |m| format!("{m:.1}"));
    let label = app.strings().fmt("call.quality", &[("mos", &latest)]);
    frame.render_widget(
        Paragraph::new(truncate(&format!(" {label}"), inner.width as usize)).style(style),
        Rect::new(inner.x, inner.y, inner.width, 1.min(inner.height)),
    );
    if inner.height >= 2 {
        let width = inner.width.saturating_sub(1) as usize;
        let data: Vec<u64> = c
            .quality
            .iter()
            .skip(c.quality.len().saturating_sub(width))
            .map(|m| tenths(m - 1.0))
            .collect();
        let bars = style.fg(theme
            .style("dial")
            .bg
            .unwrap_or(ratatui::style::Color::Reset));
        let spark = Sparkline::default().data(&data).max(35).style(bars);
        frame.render_widget(
            spark,
            Rect::new(inner.x + 1, inner.y + 1, inner.width - 1, 1),
        );
    }
}
