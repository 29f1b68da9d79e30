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
