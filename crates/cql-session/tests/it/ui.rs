//! Compile-fail cases of the derive macros: each `ui/*.rs` must fail to compile with the error
//! in its `.stderr` file. Regenerate the files with `TRYBUILD=overwrite`, then read them.

#[test]
fn derive_misuse_is_a_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
