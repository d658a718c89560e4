//! The wire relay behind `cargo lesson run NAME --wire`: the harness's relay
//! ([`lesson_runner::relay`], the one the tests' taps use) in front of each server, its
//! events printed as `[wire N]` lines, so a student sees the byte stream the programs see;
//! and under `--pcap` written to a capture file too ([`crate::pcap`]).

use std::net::SocketAddr;
use std::sync::Arc;

use lesson_runner::relay::{self, Event, Report, What};
pub use lesson_runner::relay::{Mode, Relay, tcp, udp};

use crate::out::Sink;
use crate::pcap::Pcap;

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// What the relay in front of `server` reports: each event as a line in `sink` (and a
/// packet or three in `pcap`); `mode` is `None` for UDP. Connections are numbered from
/// the relay's `numbers`, shared between relays, so two servers' connections don't both
/// say `wire 1`.
pub fn report(server: SocketAddr, mode: Option<Mode>, sink: Sink, pcap: Option<Pcap>) -> Report {
    Arc::new(move |event: &Event| {
        if let Some(pcap) = &pcap {
            pcap.record(event, server, mode.is_some());
        }
        sink.push(format!("wire {}", event.conn), line(event, server, mode));
    })
}

/// What a student reads about one event.
fn line(event: &Event, server: SocketAddr, mode: Option<Mode>) -> String {
    let arrow = |toward: relay::Toward| {
        let (from, to) = toward.ends();
        format!("{from} → {to}")
    };
    match &event.what {
        What::Connected { via } => match mode {
            Some(_) => format!(
                "client {} connected; relaying to server {server}",
                event.client
            ),
            None => format!(
                "client {}: relaying to server {server} from {via}",
                event.client
            ),
        },
        What::Data(toward, data) => {
            let n = data.len();
            let note = match mode {
                Some(Mode::Split(size)) if n > size => {
                    format!("  (sent as {} pieces of {})", n.div_ceil(size), bytes(size))
                }
                Some(Mode::Merge) => "  (held)".to_string(),
                None if event.server != server => match toward {
                    relay::Toward::Server => format!(" (to port {})", event.server.port()),
                    relay::Toward::Client => format!(" (from port {})", event.server.port()),
                },
                _ => String::new(),
            };
            format!(
                "{}  {}  {}{note}",
                arrow(*toward),
                bytes(n),
                lesson_runner::shown(data)
            )
        }
        What::Merged(toward, data) => format!(
            "{}  {} forwarded in one write  {}",
            arrow(*toward),
            bytes(data.len()),
            lesson_runner::shown(data)
        ),
        What::End(toward) => format!(
            "{} closed its side (end of stream); passing it on",
            toward.ends().0
        ),
        What::Reset(_, why) | What::Failure(why) => why.clone(),
        What::NewPort(side) => format!(
            "the server answers from port {}: the client sees it as {side}",
            event.server.port()
        ),
        What::Closed => "closed".to_string(),
    }
}
