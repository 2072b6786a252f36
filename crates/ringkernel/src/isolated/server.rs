//! The device host: the child process that owns the GPU for an isolated runtime. It runs a
//! [`CudaBackend`] and serves the parent's requests; asks are answered when their replies come
//! back, events and a fault are sent as they happen. When its device faults it reports it and
//! waits to be replaced: a sticky fault leaves the process unable to use the GPU again.

use std::future::Future;
use std::io::{BufReader, BufWriter};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::{ActorBackend, ActorId, ActorVTable, Envelope, PendingReply, SpawnOptions};
use ringkernel_cuda::{CudaBackend, CudaConfig};

use super::proto::{
    body, read_frame, write_frame, HostConfig, InitAnswer, Op, TypeDesc, ASK_REPLY, EVENT, FAULT,
    RESPONSE,
};
use super::wire::{Reader, Wire, WireError};

type Out = Arc<Mutex<BufWriter<UnixStream>>>;

fn send(out: &Out, call: u64, tag: u8, body: &[u8]) -> std::io::Result<()> {
    let mut w = out.lock().unwrap_or_else(|e| e.into_inner());
    write_frame(&mut *w, call, tag, body)
}

/// Starts the backend a device host serves: the registered types (as the parent sent them)
/// and its configuration → the backend and its device's compute capability, or why not.
pub(crate) type Start = fn(Vec<ActorVTable>, HostConfig) -> Started;

/// A started backend and its device's compute capability, or why it did not start.
pub(crate) type Started = Result<(Arc<dyn ActorBackend>, (u32, u32)), String>;

/// Serves one parent on `stream` with a CUDA backend, until it hangs up or shuts the backend
/// down.
pub fn serve(stream: UnixStream) -> std::io::Result<()> {
    serve_with(stream, start_cuda)
}

/// [`serve`] with another backend (tests run the protocol over the CPU backend).
pub(crate) fn serve_with(stream: UnixStream, start: Start) -> std::io::Result<()> {
    let out: Out = Arc::new(Mutex::new(BufWriter::new(stream.try_clone()?)));
    let mut input = BufReader::new(stream);
    let Some((call, tag, init)) = read_frame(&mut input)? else {
        return Ok(());
    };
    if Op::from_u8(tag) != Some(Op::Init) {
        return Err(std::io::Error::other("the first request must be Init"));
    }
    let backend = match begin(&init, start) {
        Ok((b, answer)) => {
            send(&out, call, RESPONSE, &body(&answer))?;
            b
        }
        Err(why) => {
            let answer: InitAnswer = Err(why);
            return send(&out, call, RESPONSE, &body(&answer));
        }
    };
    let done = Arc::new(AtomicBool::new(false));
    let asks: Arc<Mutex<Vec<(u64, PendingReply)>>> = Arc::default();
    let notifier = {
        let (b, out, done, asks) = (backend.clone(), out.clone(), done.clone(), asks.clone());
        std::thread::Builder::new()
            .name("ringkernel-device-host-notify".into())
            .spawn(move || notify(b.as_ref(), &out, &done, &asks))?
    };
    let result = requests(backend.as_ref(), &mut input, &out, &asks, notifier.thread());
    done.store(true, Ordering::Release);
    let _ = notifier.join();
    result
}

fn begin(init: &[u8], start: Start) -> Result<(Arc<dyn ActorBackend>, InitAnswer), String> {
    let mut r = Reader::new(init);
    let types: Vec<TypeDesc> = r.get().map_err(|e| e.to_string())?;
    let config: HostConfig = r.get().map_err(|e| e.to_string())?;
    let types: Vec<_> = types.into_iter().map(TypeDesc::into_vtable).collect();
    let (backend, arch) = start(types, config)?;
    let answer = Ok((backend.description(), arch));
    Ok((backend, answer))
}

fn start_cuda(types: Vec<ActorVTable>, config: HostConfig) -> Started {
    let backend = CudaBackend::new(
        &types,
        CudaConfig {
            device_ordinal: config.device_ordinal,
            blocks: config.blocks,
            mailbox_capacity: config.mailbox_capacity,
            k2k_capacity: config.k2k_capacity,
            watchdog: config.watchdog,
            // Checkpoints are taken through live snapshots.
            snapshots: true,
            ..CudaConfig::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let arch = backend.compute_capability();
    Ok((Arc::new(backend), arch))
}

/// The request loop: one request at a time, answered in order.
fn requests(
    b: &dyn ActorBackend,
    input: &mut BufReader<UnixStream>,
    out: &Out,
    asks: &Mutex<Vec<(u64, PendingReply)>>,
    notifier: &std::thread::Thread,
) -> std::io::Result<()> {
    while let Some((call, tag, req)) = read_frame(input)? {
        let op = Op::from_u8(tag).ok_or_else(|| std::io::Error::other("unknown request"))?;
        let answer = match answer(b, op, &req, call, asks) {
            Ok(a) => a,
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        };
        send(out, call, RESPONSE, &answer)?;
        if op == Op::Ask {
            // Its reply is due within microseconds: the notifier must not be asleep.
            notifier.unpark();
        }
        if op == Op::Shutdown {
            return Ok(());
        }
    }
    Ok(())
}

fn answer(
    b: &dyn ActorBackend,
    op: Op,
    req: &[u8],
    call: u64,
    asks: &Mutex<Vec<(u64, PendingReply)>>,
) -> Result<Vec<u8>, WireError> {
    let mut r = Reader::new(req);
    Ok(match op {
        Op::Init => return Err(WireError("Init twice")),
        Op::Spawn => {
            let (ti, state): (usize, Vec<u8>) = (r.get()?, r.bytes()?);
            let options: SpawnOptions = r.get()?;
            body(&b.spawn_with(ti, &state, &options))
        }
        Op::Tell => body(&b.tell(r.get()?)),
        Op::TellBatch => {
            let envs: Vec<Envelope> = r.get()?;
            body(&b.tell_batch(&envs))
        }
        Op::Ask => body(&b.ask(r.get()?).map(|pending| {
            asks.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((call, pending));
        })),
        Op::Stop => body(&b.stop(r.get()?)),
        Op::Restart => {
            let id: ActorId = r.get()?;
            body(&b.restart(id, &r.bytes()?))
        }
        Op::StateOf => body(&b.state_of(r.get()?)),
        Op::Shutdown => body(&b.shutdown(r.get()?)),
        Op::DrainDead => body(&b.drain_dead_letters()),
        Op::DeadCounts => body(&b.dead_letter_counts()),
        Op::Actors => body(&b.actors()),
        Op::TypeIndex => body(&b.type_index_of(r.get()?)),
        Op::Snapshot => {
            let ids: Vec<ActorId> = r.get()?;
            body(&b.snapshot(&ids))
        }
        Op::Restore => {
            let ti: usize = r.get()?;
            let snap: ActorSnapshot = r.get()?;
            let options: SpawnOptions = r.get()?;
            let image = if bool::get(&mut r)? {
                Some(r.bytes()?)
            } else {
                None
            };
            body(&b.restore_with(ti, &snap, &options, image.as_deref()))
        }
        Op::Signals => body(&b.signals()),
    })
}

/// Forwards ask outcomes, events and a fault to the parent until `done`.
fn notify(
    b: &dyn ActorBackend,
    out: &Out,
    done: &AtomicBool,
    asks: &Mutex<Vec<(u64, PendingReply)>>,
) {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut faulted = false;
    while !done.load(Ordering::Acquire) {
        let mut ready = Vec::new();
        {
            let mut a = asks.lock().unwrap_or_else(|e| e.into_inner());
            a.retain_mut(|(call, pending)| match Pin::new(pending).poll(&mut cx) {
                Poll::Ready(outcome) => {
                    ready.push((*call, outcome));
                    false
                }
                Poll::Pending => true,
            });
        }
        let idle = ready.is_empty();
        for (call, outcome) in ready {
            if send(out, call, ASK_REPLY, &body(&outcome)).is_err() {
                return;
            }
        }
        if let Some(q) = b.events() {
            for e in q.drain() {
                if send(out, 0, EVENT, &body(&e)).is_err() {
                    return;
                }
            }
        }
        if !faulted {
            if let Some(why) = b.fault() {
                faulted = true;
                if send(out, 0, FAULT, &body(&why)).is_err() {
                    return;
                }
            }
        }
        if idle {
            let waiting = !asks.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
            // Replies are expected: stay on a core; otherwise back off.
            if waiting {
                std::thread::yield_now();
            } else {
                std::thread::park_timeout(Duration::from_micros(200));
            }
        }
    }
}
