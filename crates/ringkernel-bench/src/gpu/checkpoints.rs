//! Checkpoint and restore throughput on the GPU, through the backend API in one process on one
//! card: live snapshots of a 16 MiB actor (full), deltas against a base, restore into a new
//! kernel, and a snapshot of many small actors at once — beside the raw copy floors measured in
//! the same process.

use std::time::Instant;

use ringkernel_core::checkpoint::{Checkpoint, Delta};
use ringkernel_core::{ActorBackend, ActorId, ActorVTable, Envelope};
use ringkernel_cuda::bulk::{Bulk, BulkAdd, BulkState, BULK_WORDS};
use ringkernel_cuda::driver::{open_context, DeviceBuffer};
use ringkernel_cuda::{CudaBackend, CudaConfig};

use crate::error::BenchError;
use crate::gpu::actors::{Adder, Tally};
use crate::report::{Row, Section, Unit};
use crate::samples::Samples;

const MIB16: f64 = (16 << 20) as f64;
/// Delta chunk: 4 KiB.
const CHUNK: usize = 4096;

fn b_err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> BenchError {
    move |e| BenchError::bench(what, e)
}

fn bulk_backend() -> Result<CudaBackend, BenchError> {
    let types = [ActorVTable::of::<Bulk>().map_err(b_err("vtable"))?];
    // Few blocks: every block carries a 16 MiB state, image and snapshot slot.
    CudaBackend::new(
        &types,
        CudaConfig {
            blocks: Some(4),
            ..CudaConfig::default()
        },
    )
    .map_err(b_err("backend"))
}

fn zeroed_bulk() -> Vec<u8> {
    vec![0u8; std::mem::size_of::<BulkState>()]
}

/// Bytes per second from per-sample nanoseconds.
fn gbps(bytes: f64, ns: &[f64]) -> Result<Samples, BenchError> {
    Samples::new(ns.iter().map(|t| bytes / t * 1e9).collect())
}

fn bulk_add(b: &CudaBackend, to: ActorId, index: u64) -> Result<(), BenchError> {
    let env = Envelope::new(ActorId::HOST, to, &BulkAdd { index, add: 1 }).map_err(b_err("env"))?;
    b.ask(env)
        .map_err(b_err("ask"))?
        .wait(std::time::Duration::from_secs(5))
        .map_err(b_err("ask"))?;
    Ok(())
}

/// Runs the checkpoint rows; `runs` samples per row.
pub fn section(runs: usize) -> Result<Section, BenchError> {
    let mut sec = Section::new(
        "checkpoint and restore",
        format!(
            "A `Bulk` actor (16 MiB of state, `ringkernel_cuda::bulk`) on a runtime of 4 blocks. \
             Full snapshot: `ActorBackend::snapshot` of the live actor (SNAPSHOT queued in its \
             mailbox; the block's warp copies the state into its device snapshot slot; the host \
             copies the slot out into a Vec), timed from the request to the bytes on the host. \
             Delta: a snapshot after 100 adds at random words, then `Delta::between` the base \
             and it ({CHUNK}-byte chunks) on the host; `apply` rebuilds it. Restore: \
             `ActorBackend::restore` into a fresh runtime (state DMA + START), timed from the \
             call to the restored actor's first reply. Floors: the same 16 MiB copied device to \
             pageable host memory and back with cuMemcpy, no runtime involved. {runs} samples \
             per row; GB/s = 16 MiB / time."
        ),
    );
    // Floors first (they allocate, before any persistent kernel runs).
    let ctx = open_context(0).map_err(b_err("context"))?;
    let buf = DeviceBuffer::new(&ctx, 16 << 20).map_err(b_err("alloc"))?;
    let mut host = vec![0u8; 16 << 20];
    let mut dtoh = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        buf.read(&mut host).map_err(b_err("dtoh"))?;
        dtoh.push(t.elapsed().as_nanos() as f64);
    }
    drop(buf);
    sec.push(Row::new(
        "floor: cuMemcpy 16 MiB device -> pageable host",
        Unit::BytesPerSecond,
        &gbps(MIB16, &dtoh)?,
    ));

    let b = bulk_backend()?;
    let a = b.spawn(0, &zeroed_bulk()).map_err(b_err("spawn"))?;
    bulk_add(&b, a, 1)?;
    let mut full = Vec::with_capacity(runs);
    let mut base = None;
    for _ in 0..runs {
        let t = Instant::now();
        let snap = b.snapshot(&[a]).map_err(b_err("snapshot"))?;
        full.push(t.elapsed().as_nanos() as f64);
        base = Some(Checkpoint::new(snap).map_err(b_err("checkpoint"))?);
    }
    sec.push(Row::new(
        "full snapshot of a live 16 MiB actor",
        Unit::BytesPerSecond,
        &gbps(MIB16, &full)?,
    ));
    let base = base.ok_or_else(|| BenchError::bench("snapshot", "no runs"))?;
    let mut delta_ns = Vec::with_capacity(runs);
    let mut apply_ns = Vec::with_capacity(runs);
    let mut delta_bytes = 0usize;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..runs {
        for _ in 0..100 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            bulk_add(&b, a, rng % BULK_WORDS as u64)?;
        }
        let t = Instant::now();
        let snap = b.snapshot(&[a]).map_err(b_err("snapshot"))?;
        let now = Checkpoint::new(snap).map_err(b_err("checkpoint"))?;
        let delta = Delta::between(&base, &now, CHUNK).map_err(b_err("delta"))?;
        let encoded = delta.encode();
        delta_ns.push(t.elapsed().as_nanos() as f64);
        delta_bytes = encoded.len();
        let t = Instant::now();
        let rebuilt = delta.apply(&base).map_err(b_err("apply"))?;
        apply_ns.push(t.elapsed().as_nanos() as f64);
        if rebuilt != now {
            return Err(BenchError::bench(
                "delta",
                "apply did not rebuild the snapshot",
            ));
        }
    }
    sec.push(
        Row::new(
            "delta snapshot (snapshot + diff against the base + encode)",
            Unit::BytesPerSecond,
            &gbps(MIB16, &delta_ns)?,
        )
        .with_notes(format!("last delta {delta_bytes} bytes encoded, of 16 MiB")),
    );
    sec.push(Row::new(
        "delta apply onto the base (host)",
        Unit::BytesPerSecond,
        &gbps(MIB16, &apply_ns)?,
    ));
    let snap = base.actors()[0].clone();
    b.shutdown(std::time::Duration::from_secs(10))
        .map_err(b_err("shutdown"))?;
    drop(b);

    let mut restore_ns = Vec::with_capacity(runs);
    for _ in 0..runs {
        let fresh = bulk_backend()?;
        let t = Instant::now();
        fresh.restore(0, &snap).map_err(b_err("restore"))?;
        bulk_add(&fresh, snap.id, 0)?;
        restore_ns.push(t.elapsed().as_nanos() as f64);
        fresh
            .shutdown(std::time::Duration::from_secs(10))
            .map_err(b_err("shutdown"))?;
    }
    sec.push(Row::new(
        "restore a 16 MiB actor into a new kernel (to its first reply)",
        Unit::BytesPerSecond,
        &gbps(MIB16, &restore_ns)?,
    ));

    // Many small actors at once: every request is queued before any answer is collected.
    let types = [ActorVTable::of::<Adder>().map_err(b_err("vtable"))?];
    let small = CudaBackend::new(&types, CudaConfig::default()).map_err(b_err("backend"))?;
    let n = small.blocks() as usize;
    let ids = (0..n)
        .map(|_| small.spawn(0, bytemuck::bytes_of(&Tally::default())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(b_err("spawn"))?;
    let mut many = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let snaps = small.snapshot(&ids).map_err(b_err("snapshot"))?;
        many.push(t.elapsed().as_nanos() as f64);
        if snaps.len() != n {
            return Err(BenchError::bench("snapshot", "missing actors"));
        }
    }
    let s = Samples::new(many)?;
    sec.push(
        Row::new(
            format!("snapshot of {n} live actors (16-byte states) together"),
            Unit::Nanoseconds,
            &s,
        )
        .with_notes(format!("{:.0} ns per actor (p50)", s.p50() / n as f64)),
    );
    small
        .shutdown(std::time::Duration::from_secs(10))
        .map_err(b_err("shutdown"))?;
    Ok(sec)
}
