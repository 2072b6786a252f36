//! [`RemoteBackend`]: the parent's side of an isolated runtime — an [`ActorBackend`] whose every
//! call is a request to the device host child process, and whose asks complete when the device
//! host sends their outcomes.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::events::{ActorEvent, EventQueue};
use ringkernel_core::reply::{reply_pair, ReplyOutcome, ReplySlot};
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, AskError, BackendKind, BackendSignals, DeadLetter,
    DeadLetterCounts, Envelope, LifecycleState, PendingReply, SendError, ShutdownError,
    ShutdownReport, SnapshotError, SpawnError, SpawnOptions,
};

use super::proto::{
    body, decode, read_frame, write_frame, HostConfig, InitAnswer, Op, TypeDesc, ASK_REPLY, EVENT,
    FAULT, RESPONSE,
};
use super::wire::{put_bytes, Wire};
use crate::error::Error;

/// How long a request may wait for its answer (a snapshot of large actors is the longest).
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared with the reader thread.
#[derive(Debug, Default)]
struct Shared {
    calls: Mutex<HashMap<u64, SyncSender<Vec<u8>>>>,
    asks: Mutex<HashMap<u64, (ActorId, Arc<ReplySlot>)>>,
    fault: OnceLock<String>,
    events: Arc<EventQueue>,
}

impl Shared {
    /// The device host is gone or its device faulted: nothing it owes will come.
    fn lose(&self, why: String) {
        let _ = self.fault.set(why);
        for (_, (to, slot)) in lock(&self.asks).drain() {
            slot.complete(ReplyOutcome::Failed(AskError::DeviceLost(to)));
        }
        // Dropping the senders wakes every waiting call with an error.
        lock(&self.calls).clear();
    }
}

/// A CUDA runtime in a device host child process (see [`crate::isolated`]).
#[derive(Debug)]
pub(crate) struct RemoteBackend {
    out: Mutex<BufWriter<UnixStream>>,
    shared: Arc<Shared>,
    next: AtomicU64,
    /// The device host process (`None` for one served in this process, in tests).
    child: Mutex<Option<Child>>,
    reader: Mutex<Option<JoinHandle<()>>>,
    description: String,
    /// The device's compute capability, as the device host reported it.
    pub(crate) arch: (u32, u32),
}

impl RemoteBackend {
    /// Starts a device host (`program`) for `types` and waits until its kernel runs.
    pub(crate) fn start(
        program: &Path,
        types: &[ActorVTable],
        config: HostConfig,
    ) -> Result<Self, Error> {
        let io =
            |what: &str, e: std::io::Error| Error::Recovery(format!("device host: {what}: {e}"));
        let path = socket_path();
        let listener = UnixListener::bind(&path).map_err(|e| io("listen", e))?;
        let child = Command::new(program)
            .arg(&path)
            .spawn()
            .map_err(|e| io(&format!("start {}", program.display()), e));
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        let accepted = accept(&listener, Duration::from_secs(30));
        let _ = std::fs::remove_file(&path);
        let mut child = child;
        match accepted {
            Ok(stream) => Self::connect(stream, Some(child), types, config),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io("connect", e))
            }
        }
    }

    /// Talks to a device host on `stream` (`child`: its process, if it is one): sends `Init`
    /// and waits until its backend runs.
    pub(crate) fn connect(
        stream: UnixStream,
        child: Option<Child>,
        types: &[ActorVTable],
        config: HostConfig,
    ) -> Result<Self, Error> {
        let io =
            |what: &str, e: std::io::Error| Error::Recovery(format!("device host: {what}: {e}"));
        let shared = Arc::new(Shared::default());
        let input = stream.try_clone().map_err(|e| io("socket", e))?;
        let reader = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("ringkernel-device-host-reader".into())
                .spawn(move || read_loop(BufReader::new(input), &shared))
                .map_err(|e| io("reader thread", e))?
        };
        let mut remote = RemoteBackend {
            out: Mutex::new(BufWriter::new(stream)),
            shared,
            next: AtomicU64::new(1),
            child: Mutex::new(child),
            reader: Mutex::new(Some(reader)),
            description: String::new(),
            arch: (0, 0),
        };
        let descs: Vec<TypeDesc> = types.iter().map(TypeDesc::of).collect();
        let mut init = body(&descs);
        config.put(&mut init);
        let answer = remote
            .call(Op::Init, init, Duration::from_secs(120))
            .ok_or_else(|| Error::Recovery("the device host exited while starting".into()))?;
        match decode::<InitAnswer>(&answer).map_err(|e| Error::Recovery(e.to_string()))? {
            Ok((description, arch)) => {
                remote.description = match remote.pid() {
                    Some(pid) => format!("{description}, in device host process {pid}"),
                    None => description,
                };
                remote.arch = arch;
                Ok(remote)
            }
            Err(why) => Err(Error::Recovery(format!(
                "the device host could not start: {why}"
            ))),
        }
    }

    fn pid(&self) -> Option<u32> {
        lock(&self.child).as_ref().map(Child::id)
    }

    /// Sends a request and waits for its answer; `None` when the device host is gone.
    fn call(&self, op: Op, req: Vec<u8>, within: Duration) -> Option<Vec<u8>> {
        let (tx, rx): (SyncSender<Vec<u8>>, Receiver<Vec<u8>>) = sync_channel(1);
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        self.send(call, op, &req, Some(tx))?;
        rx.recv_timeout(within).ok()
    }

    /// Registers `answer` (if any) under `call`, then writes the request.
    fn send(
        &self,
        call: u64,
        op: Op,
        req: &[u8],
        answer: Option<SyncSender<Vec<u8>>>,
    ) -> Option<()> {
        if self.shared.fault.get().is_some() {
            return None;
        }
        if let Some(tx) = answer {
            lock(&self.shared.calls).insert(call, tx);
        }
        let mut out = lock(&self.out);
        if write_frame(&mut *out, call, op as u8, req).is_err() {
            drop(out);
            self.shared.lose("the device host's socket closed".into());
            return None;
        }
        Some(())
    }

    /// A request whose answer decodes as `T`; `lost` when the device host is gone.
    fn request<T: Wire>(&self, op: Op, req: Vec<u8>, lost: T) -> T {
        self.call(op, req, ANSWER_WITHIN)
            .and_then(|a| decode(&a).ok())
            .unwrap_or(lost)
    }
}

impl Drop for RemoteBackend {
    fn drop(&mut self) {
        // Closing the socket ends the device host's request loop; a host stuck on a dead device
        // is killed.
        if let Ok(out) = self.out.get_mut() {
            let _ = out.get_ref().shutdown(std::net::Shutdown::Both);
        }
        // A device host whose device faulted has nothing left to do: no need to wait for it.
        let grace = if self.shared.fault.get().is_some() {
            Duration::ZERO
        } else {
            Duration::from_secs(2)
        };
        if let Some(child) = self.child.get_mut().unwrap_or_else(|e| e.into_inner()) {
            let until = Instant::now() + grace;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        if let Some(h) = lock(&self.reader).take() {
            let _ = h.join();
        }
    }
}

/// Dispatches the device host's frames until it hangs up.
fn read_loop(mut input: BufReader<UnixStream>, s: &Shared) {
    loop {
        let (call, tag, body) = match read_frame(&mut input) {
            Ok(Some(f)) => f,
            Ok(None) => return s.lose("the device host exited".into()),
            Err(e) => return s.lose(format!("the device host's socket failed: {e}")),
        };
        match tag {
            RESPONSE => {
                if let Some(tx) = lock(&s.calls).remove(&call) {
                    let _ = tx.send(body);
                }
            }
            ASK_REPLY => {
                let Some((to, slot)) = lock(&s.asks).remove(&call) else {
                    continue;
                };
                let outcome = match decode::<Result<Envelope, AskError>>(&body) {
                    Ok(Ok(env)) => ReplyOutcome::Reply(env),
                    Ok(Err(e)) => ReplyOutcome::Failed(e),
                    Err(_) => ReplyOutcome::Failed(AskError::BadReply(to)),
                };
                slot.complete(outcome);
            }
            EVENT => {
                if let Ok(e) = decode::<ActorEvent>(&body) {
                    s.events.push(e);
                }
            }
            FAULT => {
                let why = decode::<String>(&body).unwrap_or_else(|e| e.to_string());
                s.lose(why);
            }
            _ => return s.lose(format!("the device host sent an unknown frame ({tag})")),
        }
    }
}

/// A fresh socket path in the temporary directory.
fn socket_path() -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "ringkernel-{}-{}.sock",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Accepts one connection within `within`.
fn accept(listener: &UnixListener, within: Duration) -> std::io::Result<UnixStream> {
    listener.set_nonblocking(true)?;
    let until = Instant::now() + within;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
}

impl ActorBackend for RemoteBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    fn spawn(&self, type_index: usize, state: &[u8]) -> Result<ActorId, SpawnError> {
        self.spawn_with(type_index, state, &SpawnOptions::default())
    }

    fn spawn_with(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
    ) -> Result<ActorId, SpawnError> {
        let mut req = body(&type_index);
        put_bytes(&mut req, state);
        options.put(&mut req);
        self.request(Op::Spawn, req, Err(SpawnError::DeviceLost))
    }

    fn tell(&self, env: Envelope) -> Result<(), SendError> {
        self.request(Op::Tell, body(&env), Err(SendError::DeviceLost))
    }

    fn tell_batch(&self, envs: &[Envelope]) -> Result<usize, SendError> {
        self.request(
            Op::TellBatch,
            body(&envs.to_vec()),
            Err(SendError::DeviceLost),
        )
    }

    fn ask(&self, env: Envelope) -> Result<PendingReply, SendError> {
        let (tx, rx) = sync_channel(1);
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        let to = env.receiver();
        let (slot, pending) = reply_pair(to);
        // Registered before the request leaves: the reply may come before the answer.
        lock(&self.shared.asks).insert(call, (to, slot));
        let forget = || {
            lock(&self.shared.asks).remove(&call);
        };
        if self.send(call, Op::Ask, &body(&env), Some(tx)).is_none() {
            forget();
            return Err(SendError::DeviceLost);
        }
        let accepted = rx
            .recv_timeout(ANSWER_WITHIN)
            .ok()
            .and_then(|a| decode::<Result<(), SendError>>(&a).ok())
            .unwrap_or(Err(SendError::DeviceLost));
        match accepted {
            Ok(()) => Ok(pending),
            Err(e) => {
                forget();
                Err(e)
            }
        }
    }

    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        self.request(Op::Stop, body(&id), Err(SendError::DeviceLost))
    }

    fn restart(&self, id: ActorId, state: &[u8]) -> Result<(), SpawnError> {
        let mut req = body(&id);
        put_bytes(&mut req, state);
        self.request(Op::Restart, req, Err(SpawnError::DeviceLost))
    }

    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.request(Op::StateOf, body(&id), None)
    }

    fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, ShutdownError> {
        if let Some(why) = self.shared.fault.get() {
            return Err(ShutdownError::Backend(why.clone()));
        }
        self.request(
            Op::Shutdown,
            body(&deadline),
            Err(ShutdownError::Backend("the device host is gone".into())),
        )
    }

    fn drain_dead_letters(&self) -> Vec<DeadLetter> {
        self.request(Op::DrainDead, Vec::new(), Vec::new())
    }

    fn dead_letter_counts(&self) -> DeadLetterCounts {
        self.request(Op::DeadCounts, Vec::new(), DeadLetterCounts::default())
    }

    fn actors(&self) -> Vec<ActorId> {
        self.request(Op::Actors, Vec::new(), Vec::new())
    }

    fn type_index_of(&self, id: ActorId) -> Option<usize> {
        self.request(Op::TypeIndex, body(&id), None)
    }

    fn snapshot(&self, ids: &[ActorId]) -> Result<Vec<ActorSnapshot>, SnapshotError> {
        self.request(
            Op::Snapshot,
            body(&ids.to_vec()),
            Err(SnapshotError::Backend("the device host is gone".into())),
        )
    }

    fn restore(&self, type_index: usize, snapshot: &ActorSnapshot) -> Result<(), SpawnError> {
        self.restore_with(type_index, snapshot, &SpawnOptions::default(), None)
    }

    fn restore_with(
        &self,
        type_index: usize,
        snapshot: &ActorSnapshot,
        options: &SpawnOptions,
        image: Option<&[u8]>,
    ) -> Result<(), SpawnError> {
        let mut req = body(&type_index);
        snapshot.put(&mut req);
        options.put(&mut req);
        image.is_some().put(&mut req);
        if let Some(i) = image {
            put_bytes(&mut req, i);
        }
        self.request(Op::Restore, req, Err(SpawnError::DeviceLost))
    }

    fn events(&self) -> Option<Arc<EventQueue>> {
        Some(self.shared.events.clone())
    }

    fn signals(&self) -> BackendSignals {
        let mut s = self.request(Op::Signals, Vec::new(), BackendSignals::default());
        if s.device_fault.is_none() {
            s.device_fault = self.shared.fault.get().cloned();
        }
        s
    }

    fn fault(&self) -> Option<String> {
        self.shared.fault.get().cloned()
    }
}
