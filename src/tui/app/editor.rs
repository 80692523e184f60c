//! The composer's text and cursor: readline editing over a draft of several lines.
//!
//! The cursor is a byte offset that always sits on a character boundary. Words for
//! `alt-b`/`alt-f`/`alt-d` are runs of letters and digits (as in readline); `ctrl-w` deletes
//! back to the previous whitespace. What is killed can be yanked back with `ctrl-y`.

/// A draft being written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    text: String,
    cursor: usize,
}

/// Line breaks as terminals paste them (CR, CRLF) turned into `\n`.
#[must_use]
pub fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

impl Draft {
    /// A draft holding `text`, the cursor at its end.
    #[must_use]
    pub fn with_text(text: &str) -> Draft {
        let text = normalize_newlines(text);
        Draft {
            cursor: text.len(),
            text,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor, as a byte offset into [`Draft::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Everything written, leaving the draft empty.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Inserts text at the cursor (pasted line breaks become `\n`).
    pub fn insert(&mut self, text: &str) {
        let text = normalize_newlines(text);
        self.text.insert_str(self.cursor, &text);
        self.cursor += text.len();
    }

    pub fn insert_char(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    fn prev_boundary(&self, at: usize) -> usize {
        self.text[..at]
            .char_indices()
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, at: usize) -> usize {
        self.text[at..]
            .chars()
            .next()
            .map_or(self.text.len(), |c| at + c.len_utf8())
    }

    pub fn left(&mut self) {
        self.cursor = self.prev_boundary(self.cursor);
    }

    pub fn right(&mut self) {
        self.cursor = self.next_boundary(self.cursor);
    }

    /// Where the line holding the cursor starts.
    fn line_start_at(&self, at: usize) -> usize {
        self.text[..at].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end_at(&self, at: usize) -> usize {
        self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i)
    }

    pub fn line_start(&mut self) {
        self.cursor = self.line_start_at(self.cursor);
    }

    pub fn line_end(&mut self) {
        self.cursor = self.line_end_at(self.cursor);
    }

    /// The start of the word before the cursor (or the one it is in).
    fn word_start_before(&self, at: usize, word: fn(char) -> bool) -> usize {
        let mut i = at;
        // Skip what separates, then the word.
        while i > 0 {
            let p = self.prev_boundary(i);
            if self.text[p..i].chars().all(word) {
                break;
            }
            i = p;
        }
        while i > 0 {
            let p = self.prev_boundary(i);
            if !self.text[p..i].chars().all(word) {
                break;
            }
            i = p;
        }
        i
    }

    /// The end of the word after the cursor (or the one it is in).
    fn word_end_after(&self, at: usize) -> usize {
        let mut i = at;
        while i < self.text.len() {
            let n = self.next_boundary(i);
            if self.text[i..n].chars().all(is_word) {
                break;
            }
            i = n;
        }
        while i < self.text.len() {
            let n = self.next_boundary(i);
            if !self.text[i..n].chars().all(is_word) {
                break;
            }
            i = n;
        }
        i
    }

    pub fn word_left(&mut self) {
        self.cursor = self.word_start_before(self.cursor, is_word);
    }

    pub fn word_right(&mut self) {
        self.cursor = self.word_end_after(self.cursor);
    }

    /// Removes `from..to` and returns it; the cursor goes to `from`.
    fn cut(&mut self, from: usize, to: usize) -> String {
        let gone: String = self.text.drain(from..to).collect();
        self.cursor = from;
        gone
    }

    pub fn delete_back(&mut self) {
        let p = self.prev_boundary(self.cursor);
        self.cut(p, self.cursor);
    }

    pub fn delete_forward(&mut self) {
        let n = self.next_boundary(self.cursor);
        let at = self.cursor;
        self.cut(at, n);
    }

    /// `ctrl-w`: back to the previous whitespace. Returns what went.
    pub fn delete_word_back(&mut self) -> String {
        let from = self.word_start_before(self.cursor, |c| !c.is_whitespace());
        self.cut(from, self.cursor)
    }

    /// `alt-d`: to the end of the next word.
    pub fn delete_word_forward(&mut self) -> String {
        let to = self.word_end_after(self.cursor);
        let at = self.cursor;
        self.cut(at, to)
    }

    /// `ctrl-u`: back to the start of the line (or the line break before, at its start).
    pub fn kill_line_start(&mut self) -> String {
        let start = self.line_start_at(self.cursor);
        let from = if start == self.cursor {
            self.prev_boundary(start)
        } else {
            start
        };
        self.cut(from, self.cursor)
    }

    /// `ctrl-k`: to the end of the line (or the line break, at its end).
    pub fn kill_line_end(&mut self) -> String {
        let end = self.line_end_at(self.cursor);
        let to = if end == self.cursor {
            self.next_boundary(end)
        } else {
            end
        };
        let at = self.cursor;
        self.cut(at, to)
    }

    /// The cursor's line and column (in characters), counting from 0.
    pub fn line_col(&self) -> (usize, usize) {
        let before = &self.text[..self.cursor];
        let line = before.matches('\n').count();
        let col = before[self.line_start_at(self.cursor)..].chars().count();
        (line, col)
    }

    /// The byte offset of column `col` (or the line's end) in the line starting at `start`.
    fn at_col(&self, start: usize, col: usize) -> usize {
        let end = self.line_end_at(start);
        self.text[start..end]
            .char_indices()
            .nth(col)
            .map_or(end, |(i, _)| start + i)
    }

    /// Up a line, keeping the column; false on the first line.
    pub fn line_up(&mut self) -> bool {
        let start = self.line_start_at(self.cursor);
        if start == 0 {
            return false;
        }
        let (_, col) = self.line_col();
        let prev_start = self.line_start_at(start - 1);
        self.cursor = self.at_col(prev_start, col);
        true
    }

    /// Down a line, keeping the column; false on the last line.
    pub fn line_down(&mut self) -> bool {
        let end = self.line_end_at(self.cursor);
        if end == self.text.len() {
            return false;
        }
        let (_, col) = self.line_col();
        self.cursor = self.at_col(end + 1, col);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, cursor: usize) -> Draft {
        let mut d = Draft::with_text(text);
        d.cursor = cursor;
        d
    }

    #[test]
    fn moves_by_character_word_and_line() {
        let mut d = Draft::with_text("héllo wörld, again");
        d.left();
        assert_eq!(&d.text()[d.cursor()..], "n");
        d.word_left();
        assert_eq!(&d.text()[d.cursor()..], "again");
        d.word_left();
        assert_eq!(&d.text()[d.cursor()..], "wörld, again");
        d.word_right();
        assert_eq!(&d.text()[d.cursor()..], ", again");
        d.line_start();
        assert_eq!(d.cursor(), 0);
        d.right();
        d.right();
        assert_eq!(&d.text()[d.cursor()..], "llo wörld, again", "é is one step");
        d.line_end();
        assert_eq!(d.cursor(), d.text().len());
        d.right();
        assert_eq!(d.cursor(), d.text().len(), "stops at the end");
    }

    #[test]
    fn deletes_and_kills() {
        let mut d = Draft::with_text("one two  three");
        assert_eq!(d.delete_word_back(), "three");
        assert_eq!(d.text(), "one two  ");
        assert_eq!(d.delete_word_back(), "two  ");
        d.line_start();
        assert_eq!(d.delete_word_forward(), "one");
        assert_eq!(d.text(), " ");
        let mut d = at("ab\ncd", 4);
        assert_eq!(d.kill_line_start(), "c");
        assert_eq!(d.kill_line_start(), "\n", "at a line's start: the break");
        assert_eq!(d.text(), "abd");
        let mut d = at("ab\ncd", 1);
        assert_eq!(d.kill_line_end(), "b");
        assert_eq!(d.kill_line_end(), "\n");
        assert_eq!(d.text(), "acd");
        d.delete_back();
        assert_eq!(d.text(), "cd");
        d.delete_back();
        assert_eq!(d.text(), "cd", "nothing before the start");
        d.delete_forward();
        assert_eq!(d.text(), "d");
    }

    #[test]
    fn up_and_down_keep_the_column_and_say_when_they_cannot() {
        let mut d = Draft::with_text("first line\nab\nthird");
        d.line_start();
        d.right();
        d.right();
        d.right();
        assert_eq!(d.line_col(), (2, 3));
        assert!(d.line_up());
        assert_eq!(d.line_col(), (1, 2), "the short line's end");
        assert!(d.line_up());
        assert_eq!(d.line_col(), (0, 2));
        assert!(!d.line_up());
        assert!(d.line_down());
        assert!(d.line_down());
        assert!(!d.line_down());
    }

    #[test]
    fn pasted_line_breaks_become_newlines_at_the_cursor() {
        let mut d = Draft::with_text("[]");
        d.left();
        d.insert("a\r\nb\rc");
        assert_eq!(d.text(), "[a\nb\nc]");
        assert_eq!(&d.text()[d.cursor()..], "]");
    }
}
