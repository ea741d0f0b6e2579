//! Regression: a 13-byte legacy .lzma header declaring a 4 GiB dictionary, saved as an
//! `.xz` list, made the reader allocate 4 GiB (found by the apt_lists fuzz target). It
//! must now be refused with an error, quickly and without the allocation.

use std::io::Read;

use ward_agent::patches::apt::lists;

#[test]
fn crafted_xz_header_is_an_error_not_an_allocation() {
    let artifact = include_bytes!("../fuzz/artifacts-kept/apt_lists-xz-lzma-alone-4gib-dictionary");
    // The fuzz input's first byte picks the decompressor; the rest is the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("example_dists_stable_main_binary-amd64_Packages.xz");
    std::fs::write(&path, &artifact[1..]).unwrap();
    let result = lists::open(&path).and_then(|mut r| {
        let mut out = Vec::new();
        r.read_to_end(&mut out).map(|_| out)
    });
    let err = result.expect_err("a legacy .lzma stream was decoded as .xz");
    // Refused at the header as "not .xz" — the old auto decoder accepted the header,
    // allocated the dictionary, and only failed later on the truncated data.
    assert!(err.to_string().contains("format not recognized"), "{err}");
}
