//! Progress of long work on stderr: the provisioner and the collectors report events to a
//! [`Progress`] handle passed to them explicitly; they never print. The handle renders in one
//! of three modes, chosen once by the CLI:
//! - `Live` (stderr is a terminal): a few lines redrawn in place (throttled, at most every
//!   [`REDRAW`]), erased at the end; bold/dim only when NO_COLOR is unset.
//! - `Plain` (stderr is a file or a pipe): one line per event (`provision: vpc created (3.2 s)`,
//!   `scan: ec2 done in us-east-1 (412 calls, 1.3 s)`).
//! - `Quiet` (`--quiet`): nothing, and no informational notes either.
//!
//! Stdout is never touched.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Minimum time between two redraws of the live display.
pub const REDRAW: Duration = Duration::from_millis(150);
/// At most this many detail lines under the live display's header.
const LIVE_LINES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Plain,
    Quiet,
}

impl Mode {
    /// `--quiet` wins; else live on a terminal (unless TERM=dumb), else plain lines.
    pub fn choose(quiet: bool, stderr_is_terminal: bool) -> Mode {
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        match (quiet, stderr_is_terminal && !dumb) {
            (true, _) => Mode::Quiet,
            (false, true) => Mode::Live,
            (false, false) => Mode::Plain,
        }
    }
}

/// What a logical resource (provision/destroy) is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeState {
    /// Not started: the graph runs it once these dependencies are done.
    Pending,
    Running {
        since: Instant,
        waiting: Option<String>,
    },
    Done {
        outcome: String,
        seconds: f64,
    },
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub deps: Vec<String>,
    pub state: NodeState,
}

/// One service in one region (scan).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub calls: u64,
    pub since: Instant,
    pub done: Option<f64>,
}

/// Everything the live display shows: a pure value, rendered by [`frame`].
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// `provision`, `destroy` or `scan`
    pub phase: String,
    pub started: Option<Instant>,
    pub nodes: Vec<Node>,
    /// (service, region) → progress
    pub services: BTreeMap<(String, String), Service>,
}

/// The live display's lines for `board` at `now` (pure: the renderer only adds cursor moves).
pub fn frame(board: &Board, now: Instant, width: usize, color: bool) -> Vec<String> {
    let secs = |since: Instant| now.saturating_duration_since(since).as_secs_f64();
    let bold = |s: String| if color { format!("\x1b[1m{s}\x1b[0m") } else { s };
    let dim = |s: String| if color { format!("\x1b[2m{s}\x1b[0m") } else { s };
    let cut = |s: String| if s.chars().count() > width { s.chars().take(width.saturating_sub(1)).chain(['…']).collect() } else { s };
    let elapsed = board.started.map(secs).unwrap_or(0.0);
    let mut lines = Vec::new();
    if !board.nodes.is_empty() {
        let done = board.nodes.iter().filter(|n| matches!(n.state, NodeState::Done { .. })).count();
        let running: Vec<&Node> = board.nodes.iter().filter(|n| matches!(n.state, NodeState::Running { .. })).collect();
        lines.push(bold(cut(format!("{}: {done}/{} done, {} running ({elapsed:.0} s)", board.phase, board.nodes.len(), running.len()))));
        let finished = |id: &str| board.nodes.iter().any(|n| n.id == id && matches!(n.state, NodeState::Done { .. }));
        for n in &running {
            let NodeState::Running { since, waiting } = &n.state else { continue };
            let what = waiting.as_deref().map(|w| format!("  waiting for {w}")).unwrap_or_default();
            lines.push(cut(format!("  {:<28} {:>6.1} s{what}", n.id, secs(*since))));
        }
        for n in board.nodes.iter().filter(|n| n.state == NodeState::Pending) {
            let open: Vec<&str> = n.deps.iter().map(String::as_str).filter(|d| !finished(d)).collect();
            let line = if open.is_empty() { format!("  {:<28} queued", n.id) } else { format!("  {:<28} waits for {}", n.id, open.join(", ")) };
            lines.push(dim(cut(line)));
        }
    }
    if !board.services.is_empty() {
        let done = board.services.values().filter(|s| s.done.is_some()).count();
        let calls: u64 = board.services.values().map(|s| s.calls).sum();
        lines.push(bold(cut(format!("{}: {done}/{} services done, {calls} calls ({elapsed:.0} s)", board.phase, board.services.len()))));
        for ((service, region), s) in board.services.iter().filter(|(_, s)| s.done.is_none()) {
            lines.push(cut(format!("  {service:<16} {region:<14} {:>5} calls {:>6.1} s", s.calls, secs(s.since))));
        }
    }
    if lines.len() > LIVE_LINES + 1 {
        let hidden = lines.len() - LIVE_LINES;
        lines.truncate(LIVE_LINES);
        lines.push(dim(format!("  … and {hidden} more")));
    }
    lines
}

struct Inner {
    mode: Mode,
    color: bool,
    board: Mutex<Live>,
    stop: AtomicBool,
}

#[derive(Default)]
struct Live {
    board: Board,
    /// lines of the frame on screen now
    drawn: usize,
    last: Option<Instant>,
}

/// The progress handle: cheap to clone, shared by the tasks of one run.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Progress({:?})", self.inner.mode)
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new(Mode::Quiet)
    }
}

impl Progress {
    pub fn new(mode: Mode) -> Progress {
        let color = std::env::var_os("NO_COLOR").is_none();
        let p = Progress { inner: Arc::new(Inner { mode, color, board: Mutex::new(Live::default()), stop: AtomicBool::new(false) }) };
        if mode == Mode::Live {
            // redraw while nothing happens, so elapsed times move during long waits
            let weak = Arc::downgrade(&p.inner);
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_millis(250));
                let Some(inner) = weak.upgrade() else { return };
                if inner.stop.load(Ordering::Relaxed) {
                    return;
                }
                Progress { inner }.redraw(false);
            });
        }
        p
    }

    /// No output at all.
    pub fn quiet() -> Progress {
        Progress::new(Mode::Quiet)
    }

    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// An informational line (`provisioning stack dev in ...`): printed above the live display,
    /// or as is; nothing when quiet.
    pub fn note(&self, line: &str) {
        match self.inner.mode {
            Mode::Quiet => {}
            Mode::Plain => eprintln!("{line}"),
            Mode::Live => {
                let mut live = self.inner.board.lock().expect("progress lock");
                let mut err = std::io::stderr().lock();
                let erased = if live.drawn > 0 { erase(live.drawn) } else { String::new() };
                let _ = writeln!(err, "{erased}{line}");
                live.drawn = 0;
                let _ = err.flush();
                drop(err);
                draw(&mut live, self.inner.color);
            }
        }
    }

    fn plain(&self, line: String) {
        if self.inner.mode == Mode::Plain {
            eprintln!("{line}");
        }
    }

    /// Change the board (kept in live and plain mode: plain lines read the call counts).
    fn update(&self, f: impl FnOnce(&mut Board)) {
        if self.inner.mode == Mode::Quiet {
            return;
        }
        f(&mut self.inner.board.lock().expect("progress lock").board);
        if self.inner.mode == Mode::Live {
            self.redraw(false);
        }
    }

    fn redraw(&self, force: bool) {
        let mut live = self.inner.board.lock().expect("progress lock");
        if !force && live.last.is_some_and(|t| t.elapsed() < REDRAW) {
            return;
        }
        draw(&mut live, self.inner.color);
    }

    /// A provision or destroy starts: its logical resources and what each depends on.
    pub fn begin_nodes(&self, phase: &str, nodes: impl IntoIterator<Item = (String, Vec<String>)>) {
        let nodes: Vec<Node> = nodes.into_iter().map(|(id, deps)| Node { id, deps, state: NodeState::Pending }).collect();
        self.inner.board.lock().expect("progress lock").board.phase = phase.to_string();
        self.update(|b| {
            b.started = Some(Instant::now());
            b.nodes = nodes;
        });
    }

    pub fn node_started(&self, id: &str) {
        self.update(|b| set_node(b, id, NodeState::Running { since: Instant::now(), waiting: None }));
    }

    /// The node polls AWS until `what` is ready (a database, a NAT gateway, ...).
    pub fn node_waiting(&self, id: &str, what: &str) {
        let phase = self.phase();
        self.plain(format!("{phase}: {id} waiting for {what}"));
        self.update(|b| {
            if let Some(Node { state: NodeState::Running { waiting, .. }, .. }) = b.nodes.iter_mut().find(|n| n.id == id) {
                *waiting = Some(what.to_string());
            }
        });
    }

    /// The node finished: `outcome` is `created`, `updated`, `unchanged`, `deleted`, `absent`
    /// or `FAILED: <why>`; `detail` its physical id.
    pub fn node_done(&self, id: &str, outcome: &str, detail: Option<&str>, elapsed: Duration, n: usize, total: usize) {
        let phase = self.phase();
        let detail = detail.filter(|d| !d.is_empty()).map(|d| format!(" {d}")).unwrap_or_default();
        self.plain(format!("{phase}: {id} {outcome} ({:.1} s){detail} [{n}/{total}]", elapsed.as_secs_f64()));
        self.update(|b| set_node(b, id, NodeState::Done { outcome: outcome.to_string(), seconds: elapsed.as_secs_f64() }));
    }

    /// A scan starts collecting.
    pub fn begin_scan(&self) {
        self.inner.board.lock().expect("progress lock").board.phase = "scan".into();
        self.update(|b| {
            b.started = Some(Instant::now());
        });
    }

    pub fn service_started(&self, service: &str, region: &str) {
        self.update(|b| {
            b.services.insert((service.to_string(), region.to_string()), Service { calls: 0, since: Instant::now(), done: None });
        });
    }

    /// One API call (each page) of `service` in `region`.
    pub fn call(&self, service: &str, region: &str) {
        self.update(|b| {
            if let Some(s) = b.services.get_mut(&(service.to_string(), region.to_string())) {
                s.calls += 1;
            }
        });
    }

    pub fn service_done(&self, service: &str, region: &str, elapsed: Duration) {
        let mut calls = 0;
        self.update(|b| {
            let s = b.services.entry((service.to_string(), region.to_string())).or_insert(Service { calls: 0, since: Instant::now(), done: None });
            s.done = Some(elapsed.as_secs_f64());
            calls = s.calls;
        });
        let region_label = if region.is_empty() { String::new() } else { format!(" in {region}") };
        self.plain(format!("scan: {service} done{region_label} ({calls} calls, {:.1} s)", elapsed.as_secs_f64()));
    }

    /// The work is over: erase the live display (the summary lines follow).
    pub fn finish(&self) {
        if self.inner.mode != Mode::Live {
            return;
        }
        let mut live = self.inner.board.lock().expect("progress lock");
        if live.drawn > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", erase(live.drawn));
            let _ = err.flush();
        }
        live.drawn = 0;
        live.board = Board { phase: live.board.phase.clone(), ..Board::default() };
        live.last = None;
    }

    fn phase(&self) -> String {
        self.inner.board.lock().expect("progress lock").board.phase.clone()
    }
}

/// Log lines (tracing) go through the handle, so that on a terminal they print above the live
/// display instead of being drawn over: `tracing_subscriber::fmt().with_writer(progress.clone())`.
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Progress {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter { progress: self.clone(), buf: Vec::new() }
    }
}

/// One log event, written to stderr when dropped.
pub struct LogWriter {
    progress: Progress,
    buf: Vec<u8>,
}

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let inner = &self.progress.inner;
        if inner.mode != Mode::Live {
            let _ = std::io::stderr().write_all(&self.buf);
            return;
        }
        let mut live = inner.board.lock().expect("progress lock");
        let mut err = std::io::stderr().lock();
        if live.drawn > 0 {
            let _ = err.write_all(erase(live.drawn).as_bytes());
            live.drawn = 0;
        }
        let _ = err.write_all(&self.buf);
        let _ = err.flush();
        drop(err);
        draw(&mut live, inner.color);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

tokio::task_local! {
    /// The node the current task works on, so that `provision::wait_for` can say what it waits
    /// for without every component passing its id along.
    pub static NODE: (Progress, String);
}

/// Called by `provision::wait_for`: the current node waits for `what`.
pub fn waiting(what: &str) {
    let _ = NODE.try_with(|(p, id)| p.node_waiting(id, what));
}

fn set_node(b: &mut Board, id: &str, state: NodeState) {
    if let Some(n) = b.nodes.iter_mut().find(|n| n.id == id) {
        n.state = state;
    }
}

/// Cursor up `lines` and clear to the end of the screen.
fn erase(lines: usize) -> String {
    if lines == 0 {
        "\r\x1b[J".to_string()
    } else {
        format!("\r\x1b[{lines}A\x1b[J")
    }
}

fn draw(live: &mut Live, color: bool) {
    let width = terminal_columns().saturating_sub(1).max(20);
    let lines = frame(&live.board, Instant::now(), width, color);
    if lines.is_empty() && live.drawn == 0 {
        return;
    }
    let mut err = std::io::stderr().lock();
    let mut out = erase(live.drawn);
    for l in &lines {
        out.push_str(l);
        out.push('\n');
    }
    let _ = err.write_all(out.as_bytes());
    let _ = err.flush();
    live.drawn = lines.len();
    live.last = Some(Instant::now());
}

fn terminal_columns() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(now: Instant) -> Board {
        let ago = |s: u64| now - Duration::from_secs(s);
        Board {
            phase: "provision".into(),
            started: Some(ago(42)),
            nodes: vec![
                Node { id: "vpc".into(), deps: vec![], state: NodeState::Done { outcome: "created".into(), seconds: 3.2 } },
                Node {
                    id: "database".into(),
                    deps: vec!["vpc".into()],
                    state: NodeState::Running { since: ago(30), waiting: Some("database tap-dev-db".into()) },
                },
                Node { id: "stream".into(), deps: vec!["vpc".into()], state: NodeState::Running { since: ago(2), waiting: None } },
                Node { id: "api".into(), deps: vec!["vpc".into(), "database".into(), "stream".into()], state: NodeState::Pending },
            ],
            services: BTreeMap::new(),
        }
    }

    #[test]
    fn the_live_frame_shows_each_running_resource_its_time_and_what_it_waits_for() {
        let now = Instant::now();
        let lines = frame(&board(now), now, 100, false);
        assert_eq!(
            lines,
            vec![
                "provision: 1/4 done, 2 running (42 s)".to_string(),
                format!("  {:<28} {:>6.1} s  waiting for database tap-dev-db", "database", 30.0),
                format!("  {:<28} {:>6.1} s", "stream", 2.0),
                format!("  {:<28} waits for database, stream", "api"),
            ]
        );
    }

    #[test]
    fn the_live_frame_is_plain_without_color_cut_to_the_width_and_bounded() {
        let now = Instant::now();
        let mut b = board(now);
        let colored = frame(&b, now, 100, true);
        assert!(colored[0].starts_with("\x1b[1m") && colored[3].starts_with("\x1b[2m"), "{colored:?}");
        assert!(frame(&b, now, 100, false).iter().all(|l| !l.contains('\x1b')));
        assert!(frame(&b, now, 30, false).iter().all(|l| l.chars().count() <= 30));
        for i in 0..20 {
            b.nodes.push(Node { id: format!("n{i}"), deps: vec![], state: NodeState::Pending });
        }
        let lines = frame(&b, now, 100, false);
        assert_eq!(lines.len(), LIVE_LINES + 1);
        assert_eq!(lines.last().unwrap(), &format!("  … and {} more", 1 + 2 + 21 - LIVE_LINES));
    }

    #[test]
    fn the_live_frame_of_a_scan_counts_services_and_calls() {
        let now = Instant::now();
        let mut b = Board { phase: "scan".into(), started: Some(now - Duration::from_secs(5)), ..Default::default() };
        b.services.insert(("ec2".into(), "us-east-1".into()), Service { calls: 40, since: now - Duration::from_secs(4), done: None });
        b.services.insert(("kms".into(), "us-east-1".into()), Service { calls: 2, since: now, done: Some(0.3) });
        let lines = frame(&b, now, 100, false);
        assert_eq!(lines[0], "scan: 1/2 services done, 42 calls (5 s)");
        assert_eq!(lines[1], format!("  {:<16} {:<14} {:>5} calls {:>6.1} s", "ec2", "us-east-1", 40, 4.0));
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn quiet_and_plain_handles_keep_no_board() {
        let p = Progress::quiet();
        p.begin_nodes("provision", [("vpc".to_string(), vec![])]);
        p.node_started("vpc");
        assert!(p.inner.board.lock().unwrap().board.nodes.is_empty());
        let p = Progress::new(Mode::Plain);
        p.begin_scan();
        p.service_started("kms", "us-east-1");
        p.call("kms", "us-east-1");
        p.call("kms", "us-east-1");
        p.call("kms", "eu-west-1");
        assert_eq!(p.inner.board.lock().unwrap().board.services[&("kms".to_string(), "us-east-1".to_string())].calls, 2);
        assert_eq!(Mode::choose(true, true), Mode::Quiet);
        assert_eq!(Mode::choose(false, false), Mode::Plain);
    }
}
