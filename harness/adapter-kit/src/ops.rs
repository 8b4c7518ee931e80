//! The ops that need no lock logic: a child process, a second descriptor, a thread race.

use std::io;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use lockcheck_protocol::{IDLE_COMMAND, Mode};

use crate::{Lock, Outcome, Wait};

/// `spawn_child`: a long-lived child started with std's defaults, as an application would
/// start one (std opens descriptors close-on-exec, so nothing else is done about them).
pub(crate) fn spawn_child() -> io::Result<Child> {
    let (program, args) = IDLE_COMMAND.split_first().expect("a program");
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// `touch_fd`: opens the lock path through another descriptor and closes it again, as a user
/// reading the PID back out of the lock file would.
pub(crate) fn touch(path: &Path) -> io::Result<()> {
    std::fs::File::open(path).map(drop)
}

/// `thread_race`: `threads` threads, each with its own lock object from [`Lock::fresh`], try
/// once (exclusive, no wait) from one barrier; once every thread has its answer, the winners
/// hold for `hold` and release. Returns how many tries succeeded.
pub(crate) fn thread_race(lock: &dyn Lock, threads: u32, hold: Duration) -> u32 {
    let n = threads as usize;
    let start = Barrier::new(n);
    let answered = Barrier::new(n);
    let winners = AtomicU32::new(0);
    // Made before the threads start, so that the tries after the barrier do nothing else.
    let objects: Vec<Box<dyn Lock>> = (0..n).map(|_| lock.fresh()).collect();
    std::thread::scope(|scope| {
        for mut object in objects {
            let (start, answered, winners) = (&start, &answered, &winners);
            scope.spawn(move || {
                start.wait();
                let won = object.acquire(Mode::Exclusive, Wait::Try) == Outcome::Ok;
                if won {
                    winners.fetch_add(1, Ordering::SeqCst);
                }
                answered.wait();
                if won {
                    std::thread::sleep(hold);
                    let _ = object.release();
                }
            });
        }
    });
    winners.load(Ordering::SeqCst)
}
