//! An in-memory lock, a hello, and a way to serve request lines and read the answers back.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use lockcheck_adapter_kit::{Ended, Lock, Outcome, Session, Wait, serve};
use lockcheck_protocol::{
    AdapterMessage, Capability, ErrorKind, Hello, HolderInfo, Implementation, Mode,
    PROTOCOL_VERSION, Recovery, Response, Status,
};

/// An in-memory exclusive lock shared by every object made from one [`Fake::boxed`]: the
/// protocol side can be tested without touching a lock syscall.
pub struct Fake {
    taken: Arc<Mutex<bool>>,
    holds: bool,
    /// Counts tokens handed out, so that each acquisition gets a new one.
    tokens: Arc<AtomicU32>,
    token: Option<u64>,
    /// Counts releases that reached this lock while it did not hold it.
    pub strays: Arc<AtomicU32>,
}

impl Fake {
    pub fn boxed() -> Box<dyn Lock> {
        Fake::counting_strays(Arc::default())
    }

    /// A fake that adds every release it gets while not holding to `strays`.
    pub fn counting_strays(strays: Arc<AtomicU32>) -> Box<dyn Lock> {
        Box::new(Fake {
            taken: Arc::default(),
            holds: false,
            tokens: Arc::default(),
            token: None,
            strays,
        })
    }
}

impl Lock for Fake {
    fn acquire(&mut self, _mode: Mode, wait: Wait) -> Outcome {
        assert!(!self.holds, "acquire while held");
        let mut taken = self.taken.lock().unwrap();
        if *taken {
            return match wait {
                Wait::Timeout(_) => Outcome::TimedOut(None),
                _ => Outcome::Busy(Some("taken".to_owned())),
            };
        }
        *taken = true;
        self.holds = true;
        self.token = Some(u64::from(self.tokens.fetch_add(1, Ordering::SeqCst)) + 1);
        Outcome::Ok
    }

    fn release(&mut self) -> Outcome {
        if !self.holds {
            self.strays.fetch_add(1, Ordering::SeqCst);
            return Outcome::Failed(ErrorKind::NotHeld, "the lock is not held".to_owned());
        }
        *self.taken.lock().unwrap() = false;
        self.holds = false;
        Outcome::Ok
    }

    fn token(&self) -> Option<u64> {
        self.token
    }

    fn holder(&mut self) -> Result<Option<HolderInfo>, Outcome> {
        Ok((*self.taken.lock().unwrap()).then(|| HolderInfo {
            pid: Some(42),
            ..HolderInfo::default()
        }))
    }

    fn fresh(&self) -> Box<dyn Lock> {
        Box::new(Fake {
            taken: self.taken.clone(),
            holds: false,
            tokens: self.tokens.clone(),
            token: None,
            strays: self.strays.clone(),
        })
    }
}

/// A lock path nothing opens.
pub const NOWHERE: &str = "/nonexistent/lockcheck-kit";

pub fn hello(capabilities: &[Capability]) -> Hello {
    Hello {
        protocol: PROTOCOL_VERSION,
        implementation: Implementation {
            name: "fake".to_owned(),
            version: "1".to_owned(),
            language: "rust".to_owned(),
        },
        capabilities: capabilities.to_vec(),
        recovery: Recovery::Kernel,
        timed_start: true,
    }
}

pub struct Served {
    pub ended: Ended,
    pub hello: Hello,
    pub responses: Vec<Response>,
    pub errors: String,
}

/// Serves `input` to a fresh session on `path` declaring `capabilities`.
pub fn serve_with(capabilities: &[Capability], path: &str, input: &str) -> Served {
    let mut session = Session::new(hello(capabilities), path, Fake::boxed());
    serve_session(&mut session, input)
}

pub fn serve_session(session: &mut Session, input: &str) -> Served {
    let (mut output, mut errors) = (Vec::new(), Vec::new());
    let ended = serve(session, input.as_bytes(), &mut output, &mut errors).unwrap();
    let mut messages = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| lockcheck_protocol::parse_adapter_message(line).unwrap())
        .collect::<Vec<_>>()
        .into_iter();
    let Some(AdapterMessage::Hello(hello)) = messages.next() else {
        panic!("the first line is not a hello");
    };
    let responses = messages
        .map(|m| match m {
            AdapterMessage::Response(r) => r,
            AdapterMessage::Hello(_) => panic!("a second hello"),
        })
        .collect();
    Served {
        ended,
        hello,
        responses,
        errors: String::from_utf8(errors).unwrap(),
    }
}

pub fn serve_all(input: &str) -> Served {
    serve_with(&Capability::ALL, NOWHERE, input)
}

/// The response without its clock, for comparisons.
pub fn timeless(mut response: Response) -> Response {
    assert!(
        response.t_ns.is_some(),
        "response without t_ns: {response:?}"
    );
    response.t_ns = None;
    response
}

/// Every response to `input` from a session declaring everything, without clocks.
pub fn answers(input: &str) -> Vec<Response> {
    serve_all(input)
        .responses
        .into_iter()
        .map(timeless)
        .collect()
}

pub fn ok_with_token(id: u64, token: u64) -> Response {
    Response {
        token: Some(token),
        ..Response::new(id, Status::Ok)
    }
}

pub fn already_held(id: u64, message: &str) -> Response {
    Response::error(id, ErrorKind::AlreadyHeldByThisProcess, message)
}

/// The one response, without its clock.
pub fn only(served: Served) -> Response {
    assert_eq!(served.responses.len(), 1, "{:?}", served.responses);
    timeless(served.responses.into_iter().next().unwrap())
}
