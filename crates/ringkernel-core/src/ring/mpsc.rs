//! Bounded multi-producer single-consumer ring (placeholder: being written).
