//! Shared by the test targets: example handlers compiled natively and kept as source text.

pub mod examples;
pub mod handlers;
pub mod vtables;

/// Every example's source, for tests that only need the text.
pub const ALL_SOURCES: [(&str, &str); 4] = [
    ("bank", handlers::bank::SRC),
    ("histogram", handlers::histogram::SRC),
    ("loops", handlers::loops::SRC),
    ("checked", handlers::checked::SRC),
];
