//! People: one user, profiles (the user's own and, with the API key, anyone's), the
//! directory search and the user's address book.

use reqwest::Method;

use super::{encode_segment, AuthKind, Rest};
use crate::client::ClientError;
use crate::proto::{
    Contact, ContactInput, DirectoryPage, DirectoryQuery, ProfileUpdate, User, UserEntry,
};

impl Rest {
    pub async fn user(&self, user_id: &str) -> Result<UserEntry, ClientError> {
        let path = format!("/v1/users/{}", encode_segment(user_id));
        self.call(Method::GET, &path, &[], None, AuthKind::Bearer)
            .await
    }

    /// Replaces the user's own profile (and display name, when given).
    pub async fn set_profile(&self, update: &ProfileUpdate) -> Result<UserEntry, ClientError> {
        self.call(
            Method::PUT,
            "/v1/me/profile",
            &[],
            Some(update),
            AuthKind::Bearer,
        )
        .await
    }

    /// The admin's way to the same, for any user.
    pub async fn admin_set_profile(
        &self,
        user_id: &str,
        update: &ProfileUpdate,
    ) -> Result<User, ClientError> {
        let path = format!("/v1/admin/users/{}/profile", encode_segment(user_id));
        self.call(Method::PUT, &path, &[], Some(update), AuthKind::ApiKey)
            .await
    }

    /// One page of the directory.
    pub async fn directory(&self, query: &DirectoryQuery) -> Result<DirectoryPage, ClientError> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(by) = query.by {
            q.push(("by", by.as_str().to_owned()));
        }
        if let Some(text) = &query.q {
            q.push(("q", text.clone()));
        }
        if let Some(limit) = query.limit {
            q.push(("limit", limit.to_string()));
        }
        if let Some(after) = &query.after {
            q.push(("after", after.clone()));
        }
        self.call(Method::GET, "/v1/directory", &q, None, AuthKind::Bearer)
            .await
    }

    pub async fn contacts(&self) -> Result<Vec<Contact>, ClientError> {
        self.call(Method::GET, "/v1/contacts", &[], None, AuthKind::Bearer)
            .await
    }

    pub async fn add_contact(&self, input: &ContactInput) -> Result<Contact, ClientError> {
        self.call(
            Method::POST,
            "/v1/contacts",
            &[],
            Some(input),
            AuthKind::Bearer,
        )
        .await
    }

    /// Replaces every field of contact `contact_id`.
    pub async fn update_contact(
        &self,
        contact_id: &str,
        input: &ContactInput,
    ) -> Result<Contact, ClientError> {
        let path = format!("/v1/contacts/{}", encode_segment(contact_id));
        self.call(Method::PUT, &path, &[], Some(input), AuthKind::Bearer)
            .await
    }

    pub async fn remove_contact(&self, contact_id: &str) -> Result<(), ClientError> {
        let path = format!("/v1/contacts/{}", encode_segment(contact_id));
        self.delete(&path, AuthKind::Bearer).await
    }
}
