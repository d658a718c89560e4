//! The tftp lesson's shared code: the `packet` module, which reads and writes TFTP packets
//! by hand. Both programs, `tftp-client` and `tftp-server`, use it; every socket call is
//! in the programs themselves (`src/bin/client.rs`, `src/bin/server.rs`).

pub mod packet;
