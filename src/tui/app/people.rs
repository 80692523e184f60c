//! People beyond who is online: the user's address book (contacts first in the People pane,
//! `+` adds or removes the selected person), profiles kept up to date as they change, and
//! the People filter asking the server's directory for whoever is not loaded yet.

use super::{App, Job, Pane};
use crate::proto::{Contact, ContactChange, UserEntry};

/// Filter text shorter than this is matched against the people loaded only.
const DIRECTORY_MIN_CHARS: usize = 2;

impl App {
    /// The address book, as loaded at start (and after a reconnection).
    pub fn on_contacts(&mut self, contacts: Vec<Contact>) {
        self.contacts = contacts;
        self.dirty = true;
    }

    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// The contact that is `user_id`, if they are in the address book.
    pub fn contact_of(&self, user_id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.primary_contact == user_id)
    }

    pub(super) fn on_contact_change(&mut self, change: ContactChange, contact: &Contact) {
        self.contacts.retain(|c| c.contact_id != contact.contact_id);
        if change != ContactChange::Removed {
            self.contacts.push(contact.clone());
        }
    }

    /// Someone's name or profile changed: the list shows it (their presence comes in its
    /// own frames, and is kept).
    pub(super) fn on_user_updated(&mut self, user: &UserEntry) {
        match self.users.iter_mut().find(|u| u.user_id == user.user_id) {
            Some(u) => {
                u.display_name.clone_from(&user.display_name);
                u.profile = user.profile.clone();
            }
            None => self.users.push(user.clone()),
        }
    }

    /// Users the directory found for filter `text`: added to the list when they were not
    /// in it, their names and profiles refreshed when they were.
    pub fn on_directory(&mut self, text: &str, found: Vec<UserEntry>) {
        for user in found {
            match self.users.iter_mut().find(|u| u.user_id == user.user_id) {
                Some(u) => {
                    u.display_name = user.display_name;
                    u.profile = user.profile;
                }
                None => self.users.push(user),
            }
        }
        tracing::debug!(text, "directory results merged");
        self.dirty = true;
    }

    /// Whether `user` matches the People filter `f` (lower case): id, display name, the
    /// profile's names and user name, or the names the user gave them as a contact.
    pub(super) fn person_matches(&self, user: &UserEntry, f: &str) -> bool {
        let has = |s: Option<&str>| s.is_some_and(|s| s.to_lowercase().contains(f));
        let p = &user.profile;
        let contact = self.contact_of(&user.user_id);
        f.is_empty()
            || has(Some(&user.user_id))
            || has(Some(&user.display_name))
            || has(p.first_name.as_deref())
            || has(p.last_name.as_deref())
            || has(p.user_name.as_deref())
            || has(contact.and_then(|c| c.first_name.as_deref()))
            || has(contact.and_then(|c| c.last_name.as_deref()))
    }

    /// After input: the People filter, when it changed and is long enough, is asked of the
    /// directory too.
    pub(super) fn directory_jobs(&mut self) -> Vec<Job> {
        let text = self.filter.trim().to_owned();
        if self.filter_pane != Pane::Users
            || text.chars().count() < DIRECTORY_MIN_CHARS
            || self.directory_asked.as_deref() == Some(text.as_str())
        {
            return Vec::new();
        }
        self.directory_asked = Some(text.clone());
        vec![Job::SearchDirectory { text }]
    }

    /// `+` in People: the selected person into the address book, or out of it.
    pub(super) fn toggle_contact(&mut self) -> Vec<Job> {
        if self.focus != Pane::Users {
            return Vec::new();
        }
        let index = self.selection(Pane::Users);
        let Some(user_id) = self.visible_users().get(index).map(|u| u.user_id.clone()) else {
            return Vec::new();
        };
        let name = self.display_name(&user_id);
        let job = match self.contact_of(&user_id).map(|c| c.contact_id.clone()) {
            Some(contact_id) => {
                self.toast(self.strings.fmt("toast.contact_removed", &[("who", &name)]));
                Job::RemoveContact { contact_id }
            }
            None => {
                self.toast(self.strings.fmt("toast.contact_added", &[("who", &name)]));
                Job::AddContact { user_id }
            }
        };
        vec![job]
    }
}
