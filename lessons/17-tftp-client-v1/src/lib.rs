//! Lesson 17's library: only the `packet` module, which reads and writes TFTP packets by
//! hand. The downloader (`src/main.rs`) uses it, and so do lessons 18 (tftp-client-v2) and
//! 19 (tftp-server): one module for the packets, whoever sends them. Every socket call is
//! in the programs themselves.

pub mod packet;
