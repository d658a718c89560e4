//! udp-chat's shared piece: text to bytes and back, in UTF-8 or GBK (`--encoding`).
//!
//! A socket carries bytes, never text: the sender picks an encoding to turn its text into
//! bytes, and the receiver must decode with the same one. The course uses UTF-8, except in
//! the chapter where it talks to a Windows tool and uses gb2312 (GBK is its superset, so
//! every gb2312 message is valid GBK). Both sides of this lesson (`src/bin/server.rs`,
//! `src/bin/client.rs`) use this; every socket call stays in those two files.

use std::borrow::Cow;

use clap::ValueEnum;

/// How text becomes bytes on the wire: `--encoding utf-8` (the default) or `--encoding gbk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// UTF-8: Python's `str.encode()` default; 3 bytes for each Chinese character.
    #[value(name = "utf-8")]
    Utf8,
    /// GBK (the course writes gb2312, its subset): 2 bytes for each Chinese character.
    #[value(name = "gbk", alias = "gb2312")]
    Gbk,
}

impl Encoding {
    /// The bytes to send for `text`. A character GBK has no bytes for (an emoji, say) is
    /// sent as `&#128512;`, as encoding_rs does for web forms; Python's `encode('gbk')`
    /// would raise an error instead (our Python peers pass `errors='xmlcharrefreplace'`).
    pub fn encode(self, text: &str) -> Cow<'_, [u8]> {
        match self {
            Encoding::Utf8 => Cow::Borrowed(text.as_bytes()),
            Encoding::Gbk => encoding_rs::GBK.encode(text).0,
        }
    }

    /// The text in `bytes`. Bytes that are not valid in this encoding become U+FFFD (�):
    /// a peer can send anything, and that must never crash us (Python: `errors='replace'`).
    pub fn decode(self, bytes: &[u8]) -> Cow<'_, str> {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes),
            Encoding::Gbk => encoding_rs::GBK.decode_without_bom_handling(bytes).0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nihao_in_both_encodings() {
        assert_eq!(
            Encoding::Gbk.encode("你好").as_ref(),
            [0xC4, 0xE3, 0xBA, 0xC3]
        );
        assert_eq!(Encoding::Gbk.decode(&[0xC4, 0xE3, 0xBA, 0xC3]), "你好");
        assert_eq!(Encoding::Utf8.encode("你好").as_ref(), "你好".as_bytes());
        assert_eq!(Encoding::Utf8.decode("你好".as_bytes()), "你好");
    }

    #[test]
    fn bad_bytes_are_replaced_not_fatal() {
        assert_eq!(
            Encoding::Utf8.decode(&[0xff, 0xfe, b'a']),
            "\u{fffd}\u{fffd}a"
        );
        assert_eq!(Encoding::Gbk.decode(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn what_gbk_cannot_say_becomes_a_character_reference() {
        assert_eq!(Encoding::Gbk.encode("a😀").as_ref(), b"a&#128512;");
    }
}
