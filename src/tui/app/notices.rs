//! What the user is told: toasts that vanish, kept in the notices list, every failure in
//! the interface's language with what the software said below it.

use super::{App, Modal, Notice, Toast, NOTICES, TOAST_TICKS};

impl App {
    /// The sound card could not be opened: calls go on silent, and the user is told once.
    pub fn on_audio_fallback(&mut self, code: &str, reason: &str) {
        self.audio_problem = Some(crate::ctl::status::AudioNotice {
            code: code.to_owned(),
            message: reason.to_owned(),
        });
        "null".clone_into(&mut self.audio);
        if self.audio_notice.is_none() {
            let toast = self
                .strings
                .fmt("toast.audio_fallback", &[("reason", reason)]);
            self.notice(toast, String::new());
        }
        self.audio_notice = Some(self.strings.get("notice.audio_fallback").to_owned());
        self.dirty = true;
    }

    /// A failure the user should see, already in words.
    pub fn on_error(&mut self, message: &str) {
        let text = self.strings.fmt("toast.error", &[("message", message)]);
        self.notice(text, String::new());
    }

    /// A request failed: `what` it was (`call`, `send`, ...), the error's stable `code`
    /// and its untranslated `detail`. Shown in the interface's language, kept as a notice.
    pub fn on_failure(&mut self, what: &str, code: &str, detail: &str) {
        let what_text = self
            .strings
            .lookup(&format!("what.{what}"))
            .unwrap_or(what)
            .to_owned();
        let reason = self
            .strings
            .lookup(&format!("error.{code}"))
            .map_or_else(|| detail.to_owned(), str::to_owned);
        let text = self
            .strings
            .fmt("failure", &[("what", &what_text), ("reason", &reason)]);
        let detail = if reason == detail {
            String::new()
        } else {
            format!("{code}: {detail}")
        };
        self.notice(text, detail);
    }

    /// Tells the user (a toast) and keeps it in the notices.
    pub(super) fn notice(&mut self, text: String, detail: String) {
        self.notices.push_front(Notice {
            at: self.now,
            text: text.clone(),
            detail,
        });
        self.notices.truncate(NOTICES);
        self.notices_unseen += 1;
        self.toast(text);
    }

    /// The notices window was opened: everything in it is seen.
    pub(super) fn open_notices(&mut self) {
        self.notices_unseen = 0;
        self.modal = Some(Modal::Notices { scroll: 0 });
    }

    pub fn toast(&mut self, text: String) {
        // Long enough to read: four seconds, and a second more for every 20 characters
        // past the first 40 (at most ten).
        let extra = u32::try_from(text.chars().count().saturating_sub(40) / 20).unwrap_or(u32::MAX);
        self.toasts.push_back(Toast {
            text,
            ticks_left: TOAST_TICKS.saturating_add(extra.saturating_mul(4)).min(40),
        });
        while self.toasts.len() > 3 {
            self.toasts.pop_front();
        }
        self.dirty = true;
    }
}
