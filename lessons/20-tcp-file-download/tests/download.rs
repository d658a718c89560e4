//! Downloads as a student runs them: the real server on a port the OS picks, the real
//! client saving into a test folder. Byte-identical files (up to 100 MB), where the file
//! goes, the exact bytes on the wire, and several downloads at once.

mod common;

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::symlink;
use std::thread;

use common::*;
use lesson_runner::{PATIENCE, Running, connect};

#[test]
fn a_small_file_arrives_byte_identical_and_both_sides_say_so() {
    let t = Scratch::new("small");
    let root = t.dir("root");
    let out = t.dir("out");
    let text = "hello, file\n你好\n";
    fs::write(root.join("hello.txt"), text).expect("write");
    let (server, addr) = server(&root, &[]);

    let done = download(addr, "hello.txt", Some(&out), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    let digest = hex(&sha256(text.as_bytes()));
    let saved = out.join("hello.txt");
    assert_eq!(
        done.stdout,
        format!(
            "receiving \"hello.txt\": {} bytes, SHA-256 {digest}\nsaved {} ({} bytes, SHA-256 verified)\n",
            text.len(),
            saved.display(),
            text.len()
        )
    );
    assert_eq!(done.stderr, "");
    assert_eq!(fs::read_to_string(&saved).expect("saved file"), text);
    assert_eq!(names_in(&out), ["hello.txt"], "no temporary file left");

    let log = server
        .wait_for_stdout(" bytes\n", PATIENCE)
        .expect("server reports");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], format!("listening on {addr}"));
    assert_eq!(
        lines[1],
        format!("serving the files under {}", root.display())
    );
    let peer = lines[2]
        .strip_suffix(" asks for \"hello.txt\"")
        .expect("asks for line");
    assert_eq!(
        lines[3],
        format!("sent \"hello.txt\" to {peer}: {} bytes", text.len())
    );
}

#[test]
fn a_100_mb_file_arrives_byte_identical() {
    let t = Scratch::new("big");
    let root = t.dir("root");
    let out = t.dir("out");
    let data = pattern_file(&root.join("big.bin"), 100 * 1000 * 1000);
    let (_server, addr) = server(&root, &[]);

    let done = download(addr, "big.bin", Some(&out.join("copy.bin")), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    let copy = fs::read(out.join("copy.bin")).expect("saved file");
    assert_eq!(copy.len(), data.len());
    assert!(copy == data, "the copy differs from the original");
    assert_eq!(names_in(&out), ["copy.bin"]);
}

#[test]
fn the_answer_on_the_wire_is_status_size_le_digest_bytes() {
    let t = Scratch::new("wire");
    let root = t.dir("root");
    let data = pattern_file(&root.join("data.bin"), 300_000);
    let (_server, addr) = server(&root, &[]);

    let answer = raw_exchange(addr, &frame(b"data.bin"));
    let mut want = ok_header(300_000, &sha256(&data));
    // 300000 = 0x493e0: little-endian, the low byte first.
    assert_eq!(&want[1..9], &[0xe0, 0x93, 0x04, 0, 0, 0, 0, 0]);
    want.extend_from_slice(&data);
    assert_eq!(answer.len(), want.len());
    assert!(answer == want, "the answer's bytes differ");
}

#[test]
fn where_the_file_goes_own_name_here_into_a_folder_or_a_new_name() {
    let t = Scratch::new("where");
    let root = t.dir("root");
    fs::create_dir_all(root.join("notes/2024")).expect("mkdir");
    fs::write(root.join("notes/2024/a.txt"), "in a subfolder\n").expect("write");
    fs::write(root.join("empty.txt"), "").expect("write");
    let (_server, addr) = server(&root, &[]);

    // No -o: the name's last part, in the current folder.
    let here = t.dir("here");
    let done = download(addr, "notes/2024/a.txt", None, &here);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(names_in(&here), ["a.txt"]);
    assert!(
        done.stdout
            .ends_with("saved a.txt (15 bytes, SHA-256 verified)\n")
    );

    // -o FOLDER: inside it, under its own name.
    let folder = t.dir("folder");
    let done = download(addr, "notes/2024/a.txt", Some(&folder), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        fs::read_to_string(folder.join("a.txt")).expect("saved"),
        "in a subfolder\n"
    );

    // -o FILE, and an empty file is a file like any other (SHA-256 of nothing).
    let done = download(addr, "empty.txt", Some(&t.join("nothing.txt")), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains(&format!("0 bytes, SHA-256 {}", hex(&sha256(b""))))
    );
    assert_eq!(fs::read(t.join("nothing.txt")).expect("saved"), b"");
}

#[test]
fn an_older_file_is_replaced_only_by_a_download_that_succeeds() {
    let t = Scratch::new("replace");
    let root = t.dir("root");
    let out = t.dir("out");
    fs::write(root.join("report.txt"), "new version\n").expect("write");
    fs::write(out.join("report.txt"), "old version\n").expect("write");
    let (_server, addr) = server(&root, &[]);

    // A failed download (no such file on the server) leaves the old file as it was.
    let done = download(addr, "nope.txt", Some(&out.join("report.txt")), t.path());
    assert_eq!(done.code(), 1);
    assert_eq!(
        fs::read_to_string(out.join("report.txt")).expect("old"),
        "old version\n"
    );

    let done = download(addr, "report.txt", Some(&out), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        fs::read_to_string(out.join("report.txt")).expect("new"),
        "new version\n"
    );
    assert_eq!(names_in(&out), ["report.txt"]);
}

#[test]
#[cfg(unix)] // makes symlinks, which Windows allows only with extra rights
fn a_symlink_that_stays_inside_the_root_is_served() {
    let t = Scratch::new("inner-link");
    let root = t.dir("root");
    fs::write(root.join("real.txt"), "real\n").expect("write");
    symlink("real.txt", root.join("alias.txt")).expect("symlink");
    let (_server, addr) = server(&root, &[]);
    let done = download(addr, "alias.txt", Some(&t.join("got.txt")), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        fs::read_to_string(t.join("got.txt")).expect("saved"),
        "real\n"
    );
}

#[test]
fn a_server_whose_stdout_is_closed_goes_on_serving() {
    // `tcp-file-download-server ... | head -n 1`: after the banner nobody reads its
    // stdout. What it would print is lost; every download still works.
    let t = Scratch::new("server-head");
    let root = t.dir("root");
    fs::write(root.join("ok.txt"), "fine\n").expect("write");
    let mut command = std::process::Command::new(SERVER);
    command.args(["--port", "0", "--root"]).arg(&root);
    let mut server = Running::spawn_head(command, 1).expect("start server | head -n 1");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    for round in 0..3 {
        let out = t.join(format!("copy{round}.txt"));
        let done = download(addr, "ok.txt", Some(&out), t.path());
        assert_eq!(done.code(), 0, "download {round}: {}", done.stderr);
        assert_eq!(fs::read_to_string(&out).expect("saved"), "fine\n");
    }
    assert!(
        server.try_status().expect("status").is_none(),
        "the server is still running"
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

#[test]
fn several_downloads_at_once_each_arrive_whole() {
    let t = Scratch::new("many");
    let root = t.dir("root");
    let out = t.dir("out");
    let (server, addr) = server(&root, &[]);

    // A client that connects and says nothing holds one thread of the server, not the
    // server: the downloads below go on while it waits.
    let _silent = connect(addr).expect("silent client");

    // Four different files, each downloaded twice, all eight clients at once.
    let files: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            let name = format!("f{i}.bin");
            let data = pattern_file(&root.join(&name), 3_000_000 + i * 1000);
            (name, data)
        })
        .collect();
    let clients: Vec<(Running, String, usize)> = (0..8)
        .map(|k| {
            let (name, _) = &files[k % 4];
            let saved = format!("copy{k}.bin");
            let command = client_command(addr, name, Some(&out.join(&saved)), t.path());
            (Running::spawn(command).expect("start"), saved, k % 4)
        })
        .collect();
    let finished: Vec<_> = thread::scope(|scope| {
        let waits: Vec<_> = clients
            .into_iter()
            .map(|(client, saved, i)| {
                scope.spawn(move || (client.finish(BIG_PATIENCE).expect("client ends"), saved, i))
            })
            .collect();
        waits.into_iter().map(|w| w.join().expect("join")).collect()
    });
    for (done, saved, i) in &finished {
        assert_eq!(done.code(), 0, "{saved}: {}", done.stderr);
        assert!(
            fs::read(out.join(saved)).expect("saved") == files[*i].1,
            "{saved} differs from {}",
            files[*i].0
        );
    }
    assert_eq!(names_in(&out).len(), 8, "{:?}", names_in(&out));
    // The server prints its `sent` line after its last write, which may come just after
    // the client has finished reading: wait for all eight.
    let sent = || server.stdout().matches("\nsent \"f").count();
    assert!(wait_until(|| sent() == 8), "{}", server.stdout());
}
