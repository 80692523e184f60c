//! The interface's people jobs: what the user sets of their presence, directory searches
//! for the People filter, and the address book.

use serde_json::Value;

use super::{CtlReply, News, Runtime};
use crate::proto::{ContactInput, DirectoryQuery, SearchField};
use crate::tui::app::Job;

impl Runtime {
    pub(super) fn people_job(&mut self, job: Job, reply: Option<CtlReply>) {
        match job {
            Job::SetPresence { setting } => {
                let rest = self.rest.clone();
                self.spawn_answered("presence", reply, async move {
                    let presence = rest.set_presence(&setting).await?;
                    Ok(serde_json::to_value(&presence).unwrap_or(Value::Null))
                });
            }
            Job::SearchDirectory { text } => {
                let (rest, news) = (self.rest.clone(), self.news_tx.clone());
                self.spawn_request("directory", async move {
                    // The filter matches names and ids alike: both are asked.
                    let mut users = Vec::new();
                    for field in [SearchField::Name, SearchField::UserId] {
                        let query = DirectoryQuery {
                            limit: Some(50),
                            ..DirectoryQuery::by(field, &text)
                        };
                        users.extend(rest.directory(&query).await?.users);
                    }
                    let _ = news.send(News::Directory { text, users });
                    Ok(())
                });
            }
            Job::AddContact { user_id } => {
                let rest = self.rest.clone();
                self.spawn_answered("contact", reply, async move {
                    let input = ContactInput {
                        primary_contact: user_id,
                        ..ContactInput::default()
                    };
                    let contact = rest.add_contact(&input).await?;
                    Ok(serde_json::to_value(&contact).unwrap_or(Value::Null))
                });
            }
            Job::RemoveContact { contact_id } => {
                let rest = self.rest.clone();
                self.spawn_answered("contact", reply, async move {
                    rest.remove_contact(&contact_id).await?;
                    Ok(serde_json::json!({"removed": contact_id}))
                });
            }
            _ => {}
        }
    }
}
