//! The programs of `cql-compat` (`compat/tests/it/`), compiled against the real `scylla` crate
//! instead of `cql-session`, to check they are `scylla` 1.x programs. The programs are the test
//! `real` (`cargo xtask compat --real`); this library is empty.
#![forbid(unsafe_code)]
