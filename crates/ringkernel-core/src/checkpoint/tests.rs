use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest, Strategy};

use super::*;
use crate::message::MessageTypeId;

fn msg(n: u8) -> Envelope {
    Envelope::from_bytes(
        ActorId::HOST,
        ActorId::from_raw(1),
        MessageTypeId(7),
        &[n; 5],
    )
    .unwrap()
}

fn actor(id: u32, state: Vec<u8>, mailbox: Vec<Envelope>) -> ActorSnapshot {
    ActorSnapshot {
        id: ActorId::from_raw(id),
        type_name: format!("type{}", id % 3),
        state,
        mailbox,
    }
}

fn sample() -> Checkpoint {
    Checkpoint::new(vec![
        actor(4, vec![1; 100], vec![msg(1), msg(2)]),
        actor(1, (0..=255).collect(), vec![]),
    ])
    .unwrap()
}

#[test]
fn full_checkpoints_round_trip_and_are_sorted() {
    let c = sample();
    assert_eq!(c.actors()[0].id.raw(), 1);
    let bytes = c.encode();
    assert_eq!(Checkpoint::decode(&bytes).unwrap(), c);
    assert_eq!(c.digest(), Checkpoint::decode(&bytes).unwrap().digest());
}

#[test]
fn damaged_bytes_are_typed_errors() {
    let bytes = sample().encode();
    // Any flipped bit is caught.
    for at in [0, 5, 6, 12, bytes.len() / 2, bytes.len() - 1] {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        assert!(Checkpoint::decode(&b).is_err(), "flip at {at} accepted");
    }
    let mut b = bytes.clone();
    b[4] = 9;
    assert!(matches!(
        Checkpoint::decode(&b),
        Err(CoreError::CheckpointVersion { found: 9, .. })
    ));
    let mut b = bytes.clone();
    b[20] ^= 1;
    assert_eq!(Checkpoint::decode(&b), Err(CoreError::CheckpointDigest));
    assert!(matches!(
        Checkpoint::decode(&bytes[..10]),
        Err(CoreError::CheckpointCorrupt(_))
    ));
    assert!(matches!(
        Checkpoint::decode(b"nonsense, not a checkpoint at all....."),
        Err(CoreError::CheckpointCorrupt(_))
    ));
    // A delta is not a checkpoint.
    let d = Delta::between(&sample(), &sample(), 16).unwrap().encode();
    assert!(matches!(
        Checkpoint::decode(&d),
        Err(CoreError::CheckpointCorrupt(_))
    ));
    assert!(Checkpoint::new(vec![actor(1, vec![], vec![]), actor(1, vec![], vec![])]).is_err());
}

#[test]
fn deltas_carry_only_changed_chunks_and_check_their_base() {
    let base = sample();
    let mut a = base.actors().to_vec();
    a[0].state[130] = 0xEE; // actor 1: one chunk of 16 changes
    a[1].mailbox.pop(); // actor 4: its mailbox shrinks
    a.push(actor(9, vec![3; 40], vec![])); // a new actor
    let new = Checkpoint::new(a).unwrap();
    let d = Delta::between(&base, &new, 16).unwrap();
    assert_eq!(d.state_bytes(), 16 + 40);
    let d = Delta::decode(&d.encode()).unwrap();
    assert_eq!(d.apply(&base).unwrap(), new);
    assert_eq!(d.apply(&new), Err(CoreError::CheckpointBase));
    assert!(Delta::between(&base, &new, 0).is_err());
    // Removal.
    let fewer = Checkpoint::new(vec![base.actors()[0].clone()]).unwrap();
    assert_eq!(
        Delta::between(&base, &fewer, 8)
            .unwrap()
            .apply(&base)
            .unwrap(),
        fewer
    );
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    prop::collection::btree_map(
        0u32..20,
        (prop::collection::vec(0u8..4, 0..64), 0u8..3),
        0..6,
    )
    .prop_map(|m| {
        Checkpoint::new(
            m.into_iter()
                .map(|(id, (state, msgs))| actor(id, state, (0..msgs).map(msg).collect()))
                .collect(),
        )
        .unwrap()
    })
}

proptest! {
    #[test]
    fn any_delta_turns_its_base_into_the_new_checkpoint(
        base in checkpoint(),
        new in checkpoint(),
        chunk in prop::sample::select(vec![1usize, 3, 8, 64]),
    ) {
        let d = Delta::between(&base, &new, chunk).unwrap();
        let d = Delta::decode(&d.encode()).unwrap();
        prop_assert_eq!(d.apply(&base).unwrap(), new.clone());
        prop_assert_eq!(Checkpoint::decode(&new.encode()).unwrap(), new);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(0u8..=255, 0..300), flip in 0usize..300) {
        let _ = Checkpoint::decode(&bytes);
        let _ = Delta::decode(&bytes);
        // A valid header and digest around garbage: still an error, never a panic.
        let mut good = sample().encode();
        if flip < good.len() {
            good[flip] = good[flip].wrapping_add(1);
            prop_assert!(Checkpoint::decode(&good).is_err());
        }
    }

    #[test]
    fn truncations_never_decode(cut in 0usize..400, c in checkpoint()) {
        let bytes = c.encode();
        if cut < bytes.len() {
            prop_assert!(Checkpoint::decode(&bytes[..cut]).is_err());
        }
    }
}
