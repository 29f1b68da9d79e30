//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the
//! same target bodies the fuzzers run, so CI exercises every saved input and
//! every crash found (kept as a regression) without a fuzzer.

#[path = "../fuzz/targets.rs"]
#[allow(dead_code)]
mod targets;

use std::path::Path;

#[test]
fn corpus_replays_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            target(&data);
            count += 1;
        }
        assert!(count > 0, "no corpus for {name}");
        replayed += count;
    }
    println!("replayed {replayed} inputs");
}

/// Every fuzz binary of `fuzz/Cargo.toml` has its body in `TARGETS`, so
/// its corpus is replayed here.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    let bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            let line = section
                .lines()
                .find(|l| l.trim_start().starts_with("name"))?;
            line.split('"').nth(1)
        })
        .collect();
    assert!(bins.len() >= 8, "{bins:?}");
    let names: Vec<&str> = targets::TARGETS.iter().map(|(name, _)| *name).collect();
    for bin in bins {
        assert!(names.contains(&bin), "fuzz target {bin} is not replayed");
    }
}
