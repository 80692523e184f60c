//! `parla users --search`, `parla profile` and `parla contacts`: the directory, profiles
//! and the personal address book.

use clap::{Args, Subcommand};

use super::output::{self, CliError};
use super::{complete, config, Cli, Command};
use crate::client::Rest;
use crate::proto::{
    Contact, ContactInput, DirectoryQuery, Profile, ProfileUpdate, SearchField, User, UserEntry,
};

/// The profile fields a command sets. Only those given change; an empty value clears one.
#[derive(Debug, Clone, Default, Args)]
pub struct ProfileFields {
    #[arg(long, value_name = "NAME")]
    pub first_name: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub last_name: Option<String>,
    /// Unique on the server: A-Z a-z 0-9 . _ -
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub home_phone: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub work_phone: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub mobile_phone: Option<String>,
}

/// A field set from `given`: unchanged when absent, cleared when empty.
fn merge(field: &mut Option<String>, given: Option<&String>) {
    if let Some(v) = given {
        *field = (!v.trim().is_empty()).then(|| v.clone());
    }
}

impl ProfileFields {
    fn apply(&self, p: &mut Profile) {
        merge(&mut p.first_name, self.first_name.as_ref());
        merge(&mut p.last_name, self.last_name.as_ref());
        merge(&mut p.user_name, self.user_name.as_ref());
        merge(&mut p.email, self.email.as_ref());
        merge(&mut p.home_phone, self.home_phone.as_ref());
        merge(&mut p.work_phone, self.work_phone.as_ref());
        merge(&mut p.mobile_phone, self.mobile_phone.as_ref());
    }
}

#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Show your profile, or a user's
    Show {
        #[arg(value_name = "USER", add = complete::users())]
        user: Option<String>,
    },
    /// Change your profile: only the fields given change, an empty value clears one
    Set {
        /// The name everyone sees
        #[arg(long, value_name = "NAME")]
        display_name: Option<String>,
        #[command(flatten)]
        fields: ProfileFields,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactAction {
    /// List your contacts (the default)
    List,
    /// Add a user of this server to your contacts
    Add {
        #[arg(value_name = "USER", add = complete::users())]
        user: String,
        #[command(flatten)]
        fields: ContactFields,
    },
    /// Change a contact (by its id or its user): only the fields given change
    Update {
        #[arg(value_name = "CONTACT_OR_USER")]
        contact: String,
        /// Point the contact at another user
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        #[command(flatten)]
        fields: ContactFields,
    },
    /// Remove a contact (by its id or its user)
    Rm {
        #[arg(value_name = "CONTACT_OR_USER")]
        contact: String,
    },
}

/// A contact's fields, as `contacts add` and `contacts update` take them.
#[derive(Debug, Clone, Default, Args)]
pub struct ContactFields {
    #[arg(long, value_name = "NAME")]
    pub first_name: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub last_name: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub home_phone: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub work_phone: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub mobile_phone: Option<String>,
    /// The list the contact is in (friends unless set)
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Mark the contact a friend (`--friend false` unmarks)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub friend: Option<bool>,
}

impl ContactFields {
    fn apply(&self, c: &mut ContactInput) {
        merge(&mut c.first_name, self.first_name.as_ref());
        merge(&mut c.last_name, self.last_name.as_ref());
        merge(&mut c.email_address, self.email.as_ref());
        merge(&mut c.home_phone, self.home_phone.as_ref());
        merge(&mut c.work_phone, self.work_phone.as_ref());
        merge(&mut c.mobile_phone, self.mobile_phone.as_ref());
        merge(&mut c.group_list, self.group.as_ref());
        if let Some(friend) = self.friend {
            c.friend_status = friend;
        }
    }
}

fn profile_lines(user_id: &str, display_name: &str, p: &Profile) {
    println!("{user_id} ({display_name})");
    for (label, value) in [
        ("first name", &p.first_name),
        ("last name", &p.last_name),
        ("user name", &p.user_name),
        ("email", &p.email),
        ("home phone", &p.home_phone),
        ("work phone", &p.work_phone),
        ("mobile phone", &p.mobile_phone),
    ] {
        if let Some(v) = value {
            println!("  {label:<13} {v}");
        }
    }
}

/// `parla profile`.
async fn profile(cli: &Cli, action: Option<&ProfileAction>) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let user = match action {
        None | Some(ProfileAction::Show { user: None }) => {
            let me = rest.me().await?;
            rest.user(&me.user_id).await?
        }
        Some(ProfileAction::Show { user: Some(user) }) => rest.user(user).await?,
        Some(ProfileAction::Set {
            display_name,
            fields,
        }) => {
            let me = rest.me().await?;
            let mut profile = me.profile;
            fields.apply(&mut profile);
            let update = ProfileUpdate {
                display_name: display_name.clone(),
                profile,
            };
            rest.set_profile(&update).await?
        }
    };
    output::show(cli.json, &user, |u: &UserEntry| {
        profile_lines(&u.user_id, &u.display_name, &u.profile);
    });
    Ok(())
}

/// `parla admin user profile`: the same for any user, with the API key.
pub async fn admin_profile(
    cli: &Cli,
    rest: &Rest,
    user_id: &str,
    display_name: Option<&String>,
    fields: &ProfileFields,
) -> Result<(), CliError> {
    let users = rest.admin_list_users().await?;
    let mut profile = users
        .into_iter()
        .find(|u| u.user_id == user_id)
        .map(|u| u.profile)
        .ok_or_else(|| CliError {
            code: "user_not_found".into(),
            message: format!("user `{user_id}` does not exist"),
            exit: output::exit::NOT_FOUND,
        })?;
    fields.apply(&mut profile);
    let update = ProfileUpdate {
        display_name: display_name.cloned(),
        profile,
    };
    let user = rest.admin_set_profile(user_id, &update).await?;
    output::show(cli.json, &user, |u: &User| {
        profile_lines(&u.user_id, &u.display_name, &u.profile);
    });
    Ok(())
}

/// The commands about people: `users`, `status`, `profile`, `contacts`.
pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Users {
            online,
            search,
            by,
            count,
            after,
        } => users(cli, *online, search.as_deref(), *by, *count, after.as_ref()).await,
        Command::Status { action } => super::status::run(cli, action.as_ref()).await,
        Command::Profile { action } => profile(cli, action.as_ref()).await,
        Command::Contacts { action } => contacts(cli, action.as_ref()).await,
        _ => Ok(()),
    }
}

/// `parla users`: everyone (or those online) with their presence, or with `--search` a
/// page of the directory.
async fn users(
    cli: &Cli,
    online: bool,
    search: Option<&str>,
    by: SearchField,
    count: u32,
    after: Option<&String>,
) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let Some(text) = search else {
        let users = rest.users(online).await?;
        output::show(cli.json, &users, |users| {
            for u in users {
                println!("{}", output::user_line(u));
            }
        });
        return Ok(());
    };
    let query = DirectoryQuery {
        limit: Some(count),
        after: after.cloned(),
        ..DirectoryQuery::by(by, text)
    };
    let page = rest.directory(&query).await?;
    output::show(cli.json, &page, |page| {
        for u in &page.users {
            println!("{}", output::user_line(u));
        }
        if let Some(next) = &page.next {
            eprintln!("more: --after {next}");
        }
    });
    Ok(())
}

fn contact_line(c: &Contact) -> String {
    let name = [c.first_name.as_deref(), c.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut line = format!("{:<20} {:<24} {}", c.primary_contact, name, c.group_list);
    if c.friend_status {
        line.push_str(" friend");
    }
    for phone in [&c.mobile_phone, &c.work_phone, &c.home_phone]
        .into_iter()
        .flatten()
    {
        line.push_str(&format!(" {phone}"));
    }
    if let Some(email) = &c.email_address {
        line.push_str(&format!(" {email}"));
    }
    line.push_str(&format!("  ({})", c.contact_id));
    line
}

/// The contact `which` names: its id, or the user it points at.
async fn find_contact(rest: &Rest, which: &str) -> Result<Contact, CliError> {
    rest.contacts()
        .await?
        .into_iter()
        .find(|c| c.contact_id == which || c.primary_contact == which)
        .ok_or_else(|| CliError {
            code: "contact_not_found".into(),
            message: format!("no contact `{which}` in your address book"),
            exit: output::exit::NOT_FOUND,
        })
}

fn input_of(c: Contact) -> ContactInput {
    ContactInput {
        primary_contact: c.primary_contact,
        first_name: c.first_name,
        last_name: c.last_name,
        email_address: c.email_address,
        home_phone: c.home_phone,
        work_phone: c.work_phone,
        mobile_phone: c.mobile_phone,
        group_list: Some(c.group_list),
        friend_status: c.friend_status,
    }
}

/// `parla contacts`.
async fn contacts(cli: &Cli, action: Option<&ContactAction>) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    match action {
        None | Some(ContactAction::List) => {
            let list = rest.contacts().await?;
            output::show(cli.json, &list, |list| {
                for c in list {
                    println!("{}", contact_line(c));
                }
            });
        }
        Some(ContactAction::Add { user, fields }) => {
            let mut input = ContactInput {
                primary_contact: user.clone(),
                ..ContactInput::default()
            };
            fields.apply(&mut input);
            let contact = rest.add_contact(&input).await?;
            output::show(cli.json, &contact, |c| {
                println!("added {}", contact_line(c));
            });
        }
        Some(ContactAction::Update {
            contact,
            user,
            fields,
        }) => {
            let found = find_contact(&rest, contact).await?;
            let id = found.contact_id.clone();
            let mut input = input_of(found);
            if let Some(user) = user {
                input.primary_contact.clone_from(user);
            }
            fields.apply(&mut input);
            let contact = rest.update_contact(&id, &input).await?;
            output::show(cli.json, &contact, |c| {
                println!("updated {}", contact_line(c));
            });
        }
        Some(ContactAction::Rm { contact }) => {
            let found = find_contact(&rest, contact).await?;
            rest.remove_contact(&found.contact_id).await?;
            output::show(
                cli.json,
                &serde_json::json!({"removed": found.contact_id}),
                |_| println!("removed {}", contact_line(&found)),
            );
        }
    }
    Ok(())
}

/// `--by` for `parla users --search`.
pub fn parse_search_field(s: &str) -> Result<SearchField, String> {
    SearchField::parse(s).ok_or_else(|| {
        format!(
            "one of {}",
            SearchField::ALL.map(SearchField::as_str).join(", ")
        )
    })
}
