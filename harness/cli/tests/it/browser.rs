//! Headless Chromium for the report tests: found or installed by `ci/chromium.sh` (Debian's
//! `chromium`, serialised across test processes), and run with a fresh profile and a time
//! limit, so that a hung browser fails the test instead of hanging it. Where no browser can be
//! had, the tests fail and say why: they never pass without one.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::Duration;

/// Longest a browser may take to load and render one page before it is killed and the test
/// fails.
const BROWSER_LIMIT: Duration = Duration::from_secs(120);

pub use crate::support::repo_root as root;

/// The cargo target directory the tests' binaries were built in.
pub fn target_dir() -> PathBuf {
    crate::support::lockcheck_exe()
        .parent()
        .and_then(Path::parent)
        .expect("the lockcheck binary is in <target>/<profile>/")
        .to_owned()
}

/// The browser, installed on first use.
fn chromium() -> &'static Path {
    static BROWSER: OnceLock<PathBuf> = OnceLock::new();
    BROWSER.get_or_init(|| {
        let lock = target_dir().join("lockcheck-setup/chromium-install.lock");
        let output = Command::new("bash")
            .arg(root().join("ci/chromium.sh"))
            .arg(&lock)
            .output()
            .expect("bash runs ci/chromium.sh");
        assert!(
            output.status.success(),
            "no headless browser for the report tests: ci/chromium.sh failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
}

/// Runs the browser headless on `page` with `args`, in a profile of its own, killing it
/// past [`BROWSER_LIMIT`].
fn browse(page: &Path, args: &[String]) -> Output {
    let profile = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(chromium())
        // Root (as CI runs) cannot use the sandbox; the pages are the tests' own.
        .args(["--headless", "--no-sandbox", "--disable-gpu"])
        .args([
            "--no-first-run",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser starts");
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let (done, finished) = mpsc::channel();
    let pid = child.id();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let _ = done.send(());
        status
    });
    if finished.recv_timeout(BROWSER_LIMIT).is_err() {
        // The waiter owns the child: end it by pid, then let the waiter reap it.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        let _ = waiter.join();
        panic!(
            "the browser did not finish {} within {BROWSER_LIMIT:?}",
            page.display()
        );
    }
    let output = Output {
        status: waiter.join().unwrap().expect("the browser is reaped"),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        output.status.success(),
        "the browser failed on {} ({}):\n{}",
        page.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Reads `pipe` to its end on a thread of its own, so that neither pipe fills while the other
/// is read.
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The DOM the browser built from `page`, serialised.
pub fn dump_dom(page: &Path) -> String {
    let output = browse(page, &["--dump-dom".to_owned()]);
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

/// A screenshot of the top `width` × `height` pixels of `page`.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    /// RGBA, row by row.
    pixels: Vec<u8>,
}

impl Screenshot {
    pub fn of(page: &Path, width: u32, height: u32) -> Screenshot {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("shot.png");
        browse(
            page,
            &[
                format!("--screenshot={}", file.display()),
                format!("--window-size={width},{height}"),
            ],
        );
        let mut decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&file).expect("the browser wrote its screenshot"),
        ));
        // 8 bits per channel, with alpha, whatever the encoder chose.
        decoder.set_transformations(png::Transformations::ALPHA | png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
        let info = reader.next_frame(&mut pixels).expect("a decodable PNG");
        assert_eq!(info.color_type, png::ColorType::Rgba, "{info:?}");
        pixels.truncate(info.buffer_size());
        Screenshot {
            width: info.width,
            height: info.height,
            pixels,
        }
    }

    /// The pixels of exactly `colour`, as (x, y).
    pub fn pixels_of(&self, (r, g, b): (u8, u8, u8)) -> Vec<(u32, u32)> {
        self.pixels
            .chunks_exact(4)
            .enumerate()
            .filter(|(_, p)| p[..3] == [r, g, b])
            .map(|(i, _)| (i as u32 % self.width, i as u32 / self.width))
            .collect()
    }
}
