//! The ops that need no lock logic: `thread_race`, `touch_fd`, `spawn_child`.

use lockcheck_protocol::{Capability, ErrorKind, Response, Status};

use crate::support::{only, serve_all, serve_with};

#[test]
fn a_thread_race_on_an_exclusive_lock_has_one_winner() {
    let response = only(serve_all(
        "{\"id\":1,\"op\":\"thread_race\",\"threads\":8,\"hold_ms\":1}\n",
    ));
    assert_eq!(
        response,
        Response {
            winners: Some(1),
            ..Response::new(1, Status::Ok)
        }
    );
}

#[test]
fn touch_fd_opens_the_lock_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock");
    std::fs::write(&path, "").unwrap();
    let response = only(serve_with(
        &Capability::ALL,
        path.to_str().unwrap(),
        "{\"id\":1,\"op\":\"touch_fd\"}\n",
    ));
    assert_eq!(response, Response::new(1, Status::Ok));

    let response = only(serve_with(
        &Capability::ALL,
        dir.path().join("missing").to_str().unwrap(),
        "{\"id\":2,\"op\":\"touch_fd\"}\n",
    ));
    assert_eq!(response.kind, Some(ErrorKind::Io));
    assert!(
        response
            .message
            .as_deref()
            .unwrap()
            .starts_with("cannot open the lock path again: "),
        "{response:?}"
    );
}

#[test]
fn spawn_child_answers_the_child_pid() {
    let response = only(serve_all("{\"id\":1,\"op\":\"spawn_child\"}\n"));
    assert_eq!(response.status, Status::Ok);
    let pid = response.child_pid.expect("a child pid");
    assert_ne!(pid, std::process::id());
    // Not left for the runner here: end the child this test started.
    #[cfg(unix)]
    {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}
