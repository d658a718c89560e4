//! Lesson 17's library: only the `packet` module, which reads and writes the TFTP packets
//! a downloader needs, by hand. The downloader (`src/main.rs`) uses it; lesson 18 has its
//! own copy with the options added, which lesson 19's server uses too. Every socket call is
//! in the program itself.

pub mod packet;
