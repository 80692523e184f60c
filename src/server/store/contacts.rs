//! Each user's personal address book: contacts that point at users of this server, with
//! the names, email and phones the owner keeps for them.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{millis_to_time, new_id, to_i64, user_exists};
use super::{StoreError, StoreResult};
use crate::proto::{Contact, ContactInput, MAX_CONTACTS};

const COLUMNS: &str = "contact_id, primary_contact, first_name, last_name, email_address, \
                       home_phone, work_phone, mobile_phone, group_list, friend_status, updated_at";

fn row_to_contact(r: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        contact_id: r.get(0)?,
        primary_contact: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        email_address: r.get(4)?,
        home_phone: r.get(5)?,
        work_phone: r.get(6)?,
        mobile_phone: r.get(7)?,
        group_list: r.get(8)?,
        friend_status: r.get(9)?,
        updated_at: millis_to_time(r.get(10)?),
    })
}

/// `owner`'s contacts, in the order they were added.
pub(super) fn list(c: &Connection, owner: &str) -> StoreResult<Vec<Contact>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE owner = ?1 ORDER BY created_at, contact_id"
    ))?;
    let rows = stmt.query_map([owner], row_to_contact)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn get(c: &Connection, owner: &str, contact_id: &str) -> StoreResult<Option<Contact>> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM contacts WHERE owner = ?1 AND contact_id = ?2"),
        params![owner, contact_id],
        row_to_contact,
    )
    .optional()?)
}

/// Whether another contact of `owner`'s (not `except`) points at `primary`.
fn taken(c: &Connection, owner: &str, primary: &str, except: &str) -> StoreResult<bool> {
    Ok(c.query_row(
        "SELECT 1 FROM contacts WHERE owner = ?1 AND primary_contact = ?2 AND contact_id != ?3",
        params![owner, primary, except],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

/// Adds a contact (`input` checked already): the user it points at must exist, and the
/// book must have room and no contact for them yet.
pub(super) fn add(
    c: &mut Connection,
    owner: &str,
    input: &ContactInput,
    now: DateTime<Utc>,
) -> StoreResult<Contact> {
    let tx = c.transaction()?;
    if !user_exists(&tx, &input.primary_contact)? {
        return Err(StoreError::UserNotFound(input.primary_contact.clone()));
    }
    if taken(&tx, owner, &input.primary_contact, "")? {
        return Err(StoreError::ContactExists(input.primary_contact.clone()));
    }
    let count: i64 = tx.query_row(
        "SELECT COUNT(*) FROM contacts WHERE owner = ?1",
        [owner],
        |r| r.get(0),
    )?;
    if count >= to_i64(MAX_CONTACTS as u64) {
        return Err(StoreError::ContactsFull);
    }
    let at = millis_to_time(now.timestamp_millis());
    let contact = input.clone().into_contact(new_id("ct"), at);
    tx.execute(
        "INSERT INTO contacts (contact_id, owner, primary_contact, first_name, last_name,
             email_address, home_phone, work_phone, mobile_phone, group_list, friend_status,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        params![
            contact.contact_id,
            owner,
            contact.primary_contact,
            contact.first_name,
            contact.last_name,
            contact.email_address,
            contact.home_phone,
            contact.work_phone,
            contact.mobile_phone,
            contact.group_list,
            contact.friend_status,
            now.timestamp_millis()
        ],
    )?;
    tx.commit()?;
    Ok(contact)
}

/// Replaces a contact's fields.
pub(super) fn update(
    c: &mut Connection,
    owner: &str,
    contact_id: &str,
    input: &ContactInput,
    now: DateTime<Utc>,
) -> StoreResult<Contact> {
    let tx = c.transaction()?;
    if get(&tx, owner, contact_id)?.is_none() {
        return Err(StoreError::ContactNotFound(contact_id.to_owned()));
    }
    if !user_exists(&tx, &input.primary_contact)? {
        return Err(StoreError::UserNotFound(input.primary_contact.clone()));
    }
    if taken(&tx, owner, &input.primary_contact, contact_id)? {
        return Err(StoreError::ContactExists(input.primary_contact.clone()));
    }
    let contact = input.clone().into_contact(
        contact_id.to_owned(),
        millis_to_time(now.timestamp_millis()),
    );
    tx.execute(
        "UPDATE contacts SET primary_contact = ?3, first_name = ?4, last_name = ?5,
             email_address = ?6, home_phone = ?7, work_phone = ?8, mobile_phone = ?9,
             group_list = ?10, friend_status = ?11, updated_at = ?12
         WHERE owner = ?1 AND contact_id = ?2",
        params![
            owner,
            contact_id,
            contact.primary_contact,
            contact.first_name,
            contact.last_name,
            contact.email_address,
            contact.home_phone,
            contact.work_phone,
            contact.mobile_phone,
            contact.group_list,
            contact.friend_status,
            now.timestamp_millis()
        ],
    )?;
    tx.commit()?;
    Ok(contact)
}

/// Removes a contact; returns it as it was.
pub(super) fn remove(c: &mut Connection, owner: &str, contact_id: &str) -> StoreResult<Contact> {
    let tx = c.transaction()?;
    let contact = get(&tx, owner, contact_id)?
        .ok_or_else(|| StoreError::ContactNotFound(contact_id.to_owned()))?;
    tx.execute(
        "DELETE FROM contacts WHERE owner = ?1 AND contact_id = ?2",
        params![owner, contact_id],
    )?;
    tx.commit()?;
    Ok(contact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_book_takes_no_more_and_nothing_half_written() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut c).unwrap();
        let now = Utc::now();
        for i in 0..=MAX_CONTACTS + 1 {
            super::super::users::create(&c, &format!("u{i}"), "U", now).unwrap();
        }
        let input = |i: usize| ContactInput {
            primary_contact: format!("u{i}"),
            ..ContactInput::default()
        };
        for i in 1..=MAX_CONTACTS {
            add(&mut c, "u0", &input(i), now).unwrap();
        }
        assert!(matches!(
            add(&mut c, "u0", &input(MAX_CONTACTS + 1), now),
            Err(StoreError::ContactsFull)
        ));
        assert_eq!(list(&c, "u0").unwrap().len(), MAX_CONTACTS);
        // Another book is not affected.
        add(&mut c, "u1", &input(MAX_CONTACTS + 1), now).unwrap();
    }
}
