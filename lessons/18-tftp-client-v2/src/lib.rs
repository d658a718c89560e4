//! Lesson 18's library: only the `packet` module, lesson 17's with the options of RFC
//! 2347-2349 (the OACK, options in a request) and the requests a server reads. The
//! downloader (`src/main.rs`) uses it, and so does lesson 19's tftp-server: one module
//! for the packets, whoever sends them. Every socket call is in the programs themselves.

pub mod packet;
