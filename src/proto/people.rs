//! Who people are beyond their id: the profile a user (or the admin) keeps, the directory
//! search over everyone's profile, and each user's personal address book.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::UserEntry;

/// Longest name, user name or group list name in a profile or contact, in characters.
pub const MAX_PROFILE_NAME_CHARS: usize = 64;
/// Longest email address, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest phone number, in characters.
pub const MAX_PHONE_CHARS: usize = 32;
/// Most contacts in one address book.
pub const MAX_CONTACTS: usize = 1000;
/// Most users one directory page lists.
pub const MAX_DIRECTORY_PAGE: u32 = 200;
/// Users a directory page lists when the request does not say.
pub const DEFAULT_DIRECTORY_PAGE: u32 = 50;
/// The group list of a contact added without one.
pub const DEFAULT_GROUP_LIST: &str = "friends";

/// What a user's profile says of them; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub last_name: Option<String>,
    /// Unique on the server (compared without case): A-Z a-z 0-9 . _ -
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 254,
        pattern = "^ *$|^ *[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+@[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+ *$"
    )]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^ *$|^[0-9+(). -]*[0-9][0-9+(). -]*$")]
    pub home_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^ *$|^[0-9+(). -]*[0-9][0-9+(). -]*$")]
    pub work_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^ *$|^[0-9+(). -]*[0-9][0-9+(). -]*$")]
    pub mobile_phone: Option<String>,
}

impl Profile {
    pub fn is_empty(&self) -> bool {
        *self == Profile::default()
    }

    /// The phone numbers given, home, work, mobile.
    pub fn phones(&self) -> impl Iterator<Item = &str> {
        [&self.home_phone, &self.work_phone, &self.mobile_phone]
            .into_iter()
            .filter_map(|p| p.as_deref())
    }

    /// The profile as it is kept: every field trimmed, empty ones none; the first field
    /// that is not valid is refused with what is wrong.
    pub fn checked(self) -> Result<Profile, String> {
        Ok(Profile {
            first_name: name_field(self.first_name, "first_name")?,
            last_name: name_field(self.last_name, "last_name")?,
            user_name: user_name_field(self.user_name)?,
            email: email_field(self.email)?,
            home_phone: phone_field(self.home_phone, "home_phone")?,
            work_phone: phone_field(self.work_phone, "work_phone")?,
            mobile_phone: phone_field(self.mobile_phone, "mobile_phone")?,
        })
    }
}

/// `PUT /v1/me/profile` and `PUT /v1/admin/users/{user_id}/profile`: the profile replaces
/// the one kept; the display name changes when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProfileUpdate {
    /// 1 to 128 characters of printable text, not all spaces; absent: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub profile: Profile,
}

/// The one field a directory search matches (reference 004's `user.search` filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    /// The user id.
    UserId,
    /// First name, last name or display name.
    Name,
    FirstName,
    LastName,
    UserName,
    /// Any of the phone numbers, digits compared only.
    PhoneNumber,
}

impl SearchField {
    pub const ALL: [SearchField; 6] = [
        SearchField::UserId,
        SearchField::Name,
        SearchField::FirstName,
        SearchField::LastName,
        SearchField::UserName,
        SearchField::PhoneNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchField::UserId => "user_id",
            SearchField::Name => "name",
            SearchField::FirstName => "first_name",
            SearchField::LastName => "last_name",
            SearchField::UserName => "user_name",
            SearchField::PhoneNumber => "phone_number",
        }
    }

    pub fn parse(s: &str) -> Option<SearchField> {
        SearchField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether `user` matches `text` (case and, for phone numbers, punctuation aside;
    /// anywhere in the field).
    pub fn matches(self, user: &UserEntry, text: &str) -> bool {
        if self == SearchField::PhoneNumber {
            let want = digits(text);
            return !want.is_empty() && user.profile.phones().any(|p| digits(p).contains(&want));
        }
        let want = text.to_lowercase();
        let has = |field: Option<&str>| field.is_some_and(|f| f.to_lowercase().contains(&want));
        let p = &user.profile;
        match self {
            SearchField::UserId => has(Some(&user.user_id)),
            SearchField::Name => {
                has(p.first_name.as_deref())
                    || has(p.last_name.as_deref())
                    || has(Some(&user.display_name))
            }
            SearchField::FirstName => has(p.first_name.as_deref()),
            SearchField::LastName => has(p.last_name.as_deref()),
            SearchField::UserName => has(p.user_name.as_deref()),
            SearchField::PhoneNumber => false,
        }
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// `GET /v1/directory`: users whose field `by` has `q`; without `q` (or with a blank one),
/// everyone. Users come in user id order, a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// The field `q` is looked for in; `name` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub by: Option<SearchField>,
    /// The text to find, anywhere in the field, case aside (for `phone_number`, the digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// 1 to 200; 50 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next` of the page before: users after this user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl DirectoryQuery {
    /// A query for `text` in `field`.
    pub fn by(field: SearchField, text: &str) -> DirectoryQuery {
        DirectoryQuery {
            by: Some(field),
            q: Some(text.to_owned()),
            ..DirectoryQuery::default()
        }
    }

    /// The filter, when there is one: the field and the text, trimmed.
    pub fn filter(&self) -> Option<(SearchField, &str)> {
        let text = self.q.as_deref()?.trim();
        (!text.is_empty()).then(|| (self.by.unwrap_or(SearchField::Name), text))
    }
}

/// A page of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DirectoryPage {
    pub users: Vec<UserEntry>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A contact in a user's address book (reference 004's contact object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub contact_id: String,
    /// The user of this server the contact is.
    pub primary_contact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    /// The list the contact is in ("friends" unless set).
    pub group_list: String,
    pub friend_status: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /v1/contacts` and `PUT /v1/contacts/{contact_id}`: the contact's fields (a PUT
/// replaces them all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContactInput {
    #[schema(value_type = super::UserId)]
    pub primary_contact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 254,
        pattern = "^ *$|^ *[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+@[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+ *$"
    )]
    pub email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^ *$|^[0-9+(). -]*[0-9][0-9+(). -]*$")]
    pub home_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^ *$|^[0-9+(). -]*[0-9][0-9+(). -]*$")]
    pub work_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^ *$|^[0-9+(). -]*[0-9][0-9+(). -]*$")]
    pub mobile_phone: Option<String>,
    /// "friends" when absent (or blank).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub group_list: Option<String>,
    #[serde(default)]
    pub friend_status: bool,
}

impl ContactInput {
    /// The fields as they are kept (trimmed, empty ones none, the default group list), or
    /// what is wrong with the first that is not valid. The primary contact is checked by
    /// the server (a user id of a user that exists).
    pub fn checked(self) -> Result<ContactInput, String> {
        let group_list = name_field(self.group_list, "group_list")?
            .unwrap_or_else(|| DEFAULT_GROUP_LIST.to_owned());
        Ok(ContactInput {
            primary_contact: self.primary_contact,
            first_name: name_field(self.first_name, "first_name")?,
            last_name: name_field(self.last_name, "last_name")?,
            email_address: email_field(self.email_address)?,
            home_phone: phone_field(self.home_phone, "home_phone")?,
            work_phone: phone_field(self.work_phone, "work_phone")?,
            mobile_phone: phone_field(self.mobile_phone, "mobile_phone")?,
            group_list: Some(group_list),
            friend_status: self.friend_status,
        })
    }

    /// The contact these fields make, as kept.
    pub fn into_contact(self, contact_id: String, at: chrono::DateTime<chrono::Utc>) -> Contact {
        Contact {
            contact_id,
            primary_contact: self.primary_contact,
            first_name: self.first_name,
            last_name: self.last_name,
            email_address: self.email_address,
            home_phone: self.home_phone,
            work_phone: self.work_phone,
            mobile_phone: self.mobile_phone,
            group_list: self
                .group_list
                .unwrap_or_else(|| DEFAULT_GROUP_LIST.to_owned()),
            friend_status: self.friend_status,
            updated_at: at,
        }
    }
}

/// What happened to a contact, in a `contact` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactChange {
    Added,
    Updated,
    Removed,
}

/// A JSON object only (serde takes a struct from an array too).
fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(d)?;
    if !value.is_object() {
        return Err(serde::de::Error::custom("expected an object"));
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

/// Spaces around taken off; empty is none. (Lengths are checked before, on the text as
/// sent, as the OpenAPI document states them.)
fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim_matches(' ').to_owned())
        .filter(|v| !v.is_empty())
}

fn printable(c: char) -> bool {
    !c.is_control()
}

fn name_field(value: Option<String>, what: &str) -> Result<Option<String>, String> {
    if let Some(v) = &value {
        if v.chars().count() > MAX_PROFILE_NAME_CHARS || !v.chars().all(printable) {
            return Err(format!(
                "{what} is at most {MAX_PROFILE_NAME_CHARS} characters of printable text"
            ));
        }
    }
    Ok(trimmed(value))
}

fn user_name_field(value: Option<String>) -> Result<Option<String>, String> {
    if let Some(v) = &value {
        if v.is_empty()
            || v.len() > MAX_PROFILE_NAME_CHARS
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(format!(
                "user_name is 1 to {MAX_PROFILE_NAME_CHARS} characters of A-Z a-z 0-9 . _ -"
            ));
        }
    }
    Ok(value)
}

fn email_field(value: Option<String>) -> Result<Option<String>, String> {
    if let Some(v) = &value {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| printable(c) && !c.is_whitespace() && c != '\u{feff}' && c != '@')
        };
        let inner = v.trim_matches(' ');
        let ok = v.chars().count() <= MAX_EMAIL_CHARS
            && (inner.is_empty()
                || inner
                    .split_once('@')
                    .is_some_and(|(local, domain)| part_ok(local) && part_ok(domain)));
        if !ok {
            return Err(format!(
                "an email address is name@domain, at most {MAX_EMAIL_CHARS} characters"
            ));
        }
    }
    Ok(trimmed(value))
}

fn phone_field(value: Option<String>, what: &str) -> Result<Option<String>, String> {
    if let Some(v) = &value {
        let allowed =
            |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.');
        let blank = v.chars().all(|c| c == ' ');
        let ok = v.chars().count() <= MAX_PHONE_CHARS
            && (blank || (v.chars().all(allowed) && v.chars().any(|c| c.is_ascii_digit())));
        if !ok {
            return Err(format!(
                "{what} is a phone number: digits with + - ( ) . or spaces, at most \
                 {MAX_PHONE_CHARS} characters"
            ));
        }
    }
    Ok(trimmed(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_and_checked() {
        let p = Profile {
            first_name: Some("  Ada ".into()),
            last_name: Some("   ".into()),
            user_name: Some("ada.l".into()),
            email: Some("ada@example.org".into()),
            mobile_phone: Some("+39 (02) 555-0100".into()),
            ..Profile::default()
        }
        .checked()
        .unwrap();
        assert_eq!(p.first_name.as_deref(), Some("Ada"));
        assert_eq!(p.last_name, None);
        for bad in [
            Profile {
                user_name: Some("ada l".into()),
                ..Profile::default()
            },
            Profile {
                email: Some("ada".into()),
                ..Profile::default()
            },
            Profile {
                email: Some("a@b@c".into()),
                ..Profile::default()
            },
            Profile {
                home_phone: Some("call me".into()),
                ..Profile::default()
            },
            Profile {
                work_phone: Some("+-()".into()),
                ..Profile::default()
            },
            Profile {
                first_name: Some("a\u{7}b".into()),
                ..Profile::default()
            },
            Profile {
                last_name: Some("x".repeat(65)),
                ..Profile::default()
            },
        ] {
            assert!(bad.clone().checked().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_search_matches_one_field_without_case_or_punctuation() {
        let user = UserEntry {
            user_id: "ada".into(),
            display_name: "Countess".into(),
            presence: super::super::Presence {
                user_id: "ada".into(),
                status: super::super::PresenceStatus::Offline,
                busy_with: Vec::new(),
                devices: Vec::new(),
                availability: super::super::Availability::Available,
                activity: None,
                note: None,
            },
            profile: Profile {
                first_name: Some("Ada".into()),
                last_name: Some("Lovelace".into()),
                user_name: Some("ada.l".into()),
                work_phone: Some("+44 (20) 7946-0000".into()),
                ..Profile::default()
            },
        };
        assert!(SearchField::Name.matches(&user, "LOVE"));
        assert!(SearchField::Name.matches(&user, "count"));
        assert!(!SearchField::FirstName.matches(&user, "love"));
        assert!(SearchField::LastName.matches(&user, "lace"));
        assert!(SearchField::UserName.matches(&user, "A.L"));
        assert!(SearchField::UserId.matches(&user, "ad"));
        assert!(SearchField::PhoneNumber.matches(&user, "2079460"));
        assert!(SearchField::PhoneNumber.matches(&user, "(20) 7946"));
        assert!(!SearchField::PhoneNumber.matches(&user, "ada"));
        assert!(!SearchField::PhoneNumber.matches(&user, "5555"));
        let q = DirectoryQuery::by(SearchField::PhoneNumber, " 7946 ");
        assert_eq!(q.filter(), Some((SearchField::PhoneNumber, "7946")));
        assert_eq!(DirectoryQuery::by(SearchField::Name, "  ").filter(), None);
    }
}
