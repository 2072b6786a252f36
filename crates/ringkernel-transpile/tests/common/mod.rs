//! Shared by the test targets: example handlers compiled natively and kept as source text.

pub mod compare;
pub mod examples;
pub mod handlers;
pub mod native;
pub mod vtables;

#[allow(dead_code)] // not every test target needs the list
/// Every example's source, for tests that only need the text.
pub const ALL_SOURCES: [(&str, &str); 6] = [
    ("bank", handlers::bank::SRC),
    ("histogram", handlers::histogram::SRC),
    ("loops", handlers::loops::SRC),
    ("checked", handlers::checked::SRC),
    ("physics", handlers::physics::SRC),
    ("ticker", handlers::ticker::SRC),
];
