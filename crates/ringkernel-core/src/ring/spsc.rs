//! Wait-free single-producer single-consumer ring (placeholder: being written).
