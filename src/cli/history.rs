//! `parla calls`: the call history the server keeps, as lines or JSON.

use super::output::{self, CliError};
use super::{config, CallsAction, Cli};
use crate::proto::{CallDirection, CallLogEntry};

pub async fn calls(
    cli: &Cli,
    action: Option<&CallsAction>,
    missed: bool,
    count: u32,
    before: Option<u64>,
) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let json = cli.json;
    match action {
        None => {
            let page = rest.call_history(count, before, missed).await?;
            output::show(json, &page, |page| {
                for e in &page.entries {
                    println!("{}", line(e));
                }
                if page.has_more {
                    if let Some(last) = page.entries.last() {
                        println!("… older: parla calls --before {}", last.seq);
                    }
                }
                if page.missed_unseen > 0 {
                    println!(
                        "{} missed call(s) unseen (parla calls seen)",
                        page.missed_unseen
                    );
                }
            });
        }
        Some(CallsAction::Seen) => {
            let count = rest.mark_calls_seen().await?;
            output::show(json, &count, |_| println!("missed calls marked seen"));
        }
        Some(CallsAction::Rm { room_id }) => {
            rest.delete_call_history(Some(room_id)).await?;
            let done = serde_json::json!({ "deleted": room_id });
            output::show(json, &done, |_| println!("deleted {room_id}"));
        }
        Some(CallsAction::Clear) => {
            rest.delete_call_history(None).await?;
            let done = serde_json::json!({ "cleared": true });
            output::show(json, &done, |_| println!("call history cleared"));
        }
    }
    Ok(())
}

/// `seq  when  ← with  how it ended  duration`, missed calls marked.
fn line(e: &CallLogEntry) -> String {
    let arrow = match e.direction {
        CallDirection::Incoming => "←",
        CallDirection::Outgoing => "→",
    };
    let how = if e.missed {
        if e.seen { "missed" } else { "MISSED" }.to_owned()
    } else if let Some(to) = &e.forwarded_to {
        format!("forwarded to {to}")
    } else if let Some(to) = &e.transferred_to {
        format!("transferred to {to}")
    } else {
        e.end_reason.as_str().replace('_', " ")
    };
    let mut s = format!(
        "{:>5}  {}  {arrow} {:<20} {:<20}",
        e.seq,
        e.created_at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M"),
        e.with.join(", "),
        how
    );
    if e.duration_s > 0 {
        s.push_str(&format!(" {}:{:02}", e.duration_s / 60, e.duration_s % 60));
    }
    if let Some(by) = e.forwarded_by.as_ref().or(e.transferred_by.as_ref()) {
        s.push_str(&format!("  (via {by})"));
    }
    s.push_str(&format!("  {}", e.room_id));
    s
}
