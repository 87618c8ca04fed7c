//! The bench's own binaries: the reference server answers, and the driver
//! explains a wrong command line. (The whole benchmark runs in the test
//! command as `scripts/bench --quick`.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn hello_answers_hello_world() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut hello = Command::new(env!("CARGO_BIN_EXE_hello"))
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let response = loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            break response;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "hello never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    hello.kill().unwrap();
    let _ = hello.wait();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.ends_with("Hello, world!"), "{response}");
}

#[test]
fn the_driver_explains_a_missing_binary() {
    let output = Command::new(env!("CARGO_BIN_EXE_photoscale-bench"))
        .arg("--quick")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--photoscale"), "{stderr}");
}
