//! Fuzzes the pipeline config loader: any text must give a loaded config or
//! diagnostics, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ecgdig_stages::link();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = ecgdig_core::config::LoadOptions {
        overrides: Vec::new(),
        builtins: ecgdig::configs::builtins(),
    };
    if let Ok(loaded) = ecgdig_core::config::load_str("fuzz.toml", text, &options) {
        // a config that loads must also render and build (or refuse cleanly)
        let _ = loaded.resolved_toml();
        let _ = ecgdig_core::pipeline::Pipeline::build(loaded);
    }
});
