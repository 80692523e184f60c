//! Presence as the interface shows it (a mark and words: online or busy with whom, then what
//! the user set: availability, activity, note), and the status picker.

use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::overlays::centered;
use crate::proto::{Activity, Availability, Presence, PresenceStatus};
use crate::tui::app::{App, Picker, ACTIVITIES};
use crate::tui::theme::Theme;

fn status_word(app: &App, status: PresenceStatus, busy_with: &[String]) -> String {
    let s = app.strings();
    match status {
        PresenceStatus::Online => s.get("presence.online").to_owned(),
        PresenceStatus::Offline => s.get("presence.offline").to_owned(),
        PresenceStatus::Busy if busy_with.is_empty() => s.get("presence.busy").to_owned(),
        PresenceStatus::Busy => {
            let who: Vec<String> = busy_with.iter().map(|u| app.display_name(u)).collect();
            s.fmt("presence.busy_with", &[("who", &who.join(", "))])
        }
    }
}

fn availability_word(app: &App, a: Availability) -> String {
    app.strings()
        .get(&format!("availability.{}", a.as_str()))
        .to_owned()
}

fn activity_word(app: &App, a: Option<Activity>) -> String {
    let key = a.map_or("none", Activity::as_str);
    app.strings().get(&format!("activity.{key}")).to_owned()
}

/// `online`, `busy with Bob`, then what the user set: `· do not disturb · at lunch · "back
/// at 3"` (availability only when not available; offline, only the note).
pub(super) fn presence_words(app: &App, p: &Presence) -> String {
    let mut words = status_word(app, p.status, &p.busy_with);
    if p.status != PresenceStatus::Offline {
        if p.availability != Availability::Available {
            words.push_str(&format!(" · {}", availability_word(app, p.availability)));
        }
        // While busy, `on the phone` says nothing `busy with` did not.
        if let Some(a) = p
            .activity
            .filter(|a| *a != Activity::OnThePhone || p.status != PresenceStatus::Busy)
        {
            words.push_str(&format!(" · {}", activity_word(app, Some(a))));
        }
    }
    if let Some(note) = &p.note {
        words.push_str(&format!(" · \"{note}\""));
    }
    words
}

/// ● online, ◐ in a call, ◌ away, ⊘ not to be disturbed, ○ offline.
pub(super) fn presence_mark(p: &Presence) -> &'static str {
    match (p.status, p.availability) {
        (PresenceStatus::Offline, _) => "○",
        (PresenceStatus::Busy, _) => "◐",
        (_, Availability::DoNotDisturb) => "⊘",
        (_, Availability::Away) => "◌",
        (_, Availability::Busy) => "◍",
        (_, Availability::Available) => "●",
    }
}

pub(super) fn picker(frame: &mut Frame, app: &App, theme: &Theme, picker: &Picker) {
    let s = app.strings();
    let area = centered(frame.area(), 64, 12.min(frame.area().height));
    frame.render_widget(Clear, area);
    let style = theme.style("launcher");
    let mut lines = vec![Line::raw("")];
    for (i, a) in Availability::ALL.iter().enumerate() {
        let mark = presence_mark(&Presence {
            user_id: String::new(),
            status: PresenceStatus::Online,
            busy_with: Vec::new(),
            devices: Vec::new(),
            availability: *a,
            activity: None,
            note: None,
        });
        let text = format!(
            " {} {mark} {}",
            if i == picker.selected { "▸" } else { " " },
            availability_word(app, *a)
        );
        let st = if i == picker.selected {
            style.add_modifier(Modifier::REVERSED)
        } else {
            style
        };
        lines.push(Line::styled(text, st));
    }
    lines.push(Line::raw(""));
    let activity = activity_word(app, ACTIVITIES.get(picker.activity).copied().flatten());
    lines.push(Line::styled(
        format!(
            " {}",
            s.fmt(
                "presence_picker.activity",
                &[("activity", &format!("◂ {activity} ▸"))]
            )
        ),
        style,
    ));
    lines.push(Line::styled(
        format!(
            " {}",
            s.fmt(
                "presence_picker.note",
                &[("note", &format!("{}▏", picker.note))]
            )
        ),
        style,
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(" {}", s.get("presence_picker.keys")),
        style,
    ));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", s.get("presence_picker.title")))
        .style(style);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
