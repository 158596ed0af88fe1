//! Fuzzes the image-to-signals path: arbitrary bytes are decoded like an
//! input file (single images, multi-page TIFF, PDF) and every decoded page
//! goes through the default pipeline. The first-bytes checks a file gets
//! before it is read in full (type sniffing, the size a PNG, JPEG or BMP
//! header declares) run on the same bytes. Errors are fine; panics, aborts,
//! hangs and runaway allocations are findings.
#![no_main]
use ecgdig_core::prelude::*;
use ecgdig_stages::input::{DecodeLimits, Document};
use ecgdig_stages::input::load::{decode, LoadImageConfig};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn digitizer() -> &'static ecgdig::Digitizer {
    static D: OnceLock<ecgdig::Digitizer> = OnceLock::new();
    D.get_or_init(|| {
        ecgdig::Digitizer::new(&ecgdig::DigitizerOptions::default())
            .expect("the default pipeline builds")
    })
}

fuzz_target!(|data: &[u8]| {
    // small limits keep each run fast; the checks are the same at any size
    let cfg = LoadImageConfig {
        max_pixels: 4_000_000,
        pdf_dpi: 50.0,
        ..LoadImageConfig::default()
    };
    let limits = DecodeLimits {
        max_pages: 3,
        ..cfg.limits()
    };
    let _ = ecgdig_stages::input::read::check_head(data, &limits);
    let _ = ecgdig_stages::input::read::header_size(data);
    let d = digitizer();
    let mut pages = Vec::new();
    match Document::open(data, &limits) {
        Ok(Document::Single) | Err(_) => {
            if let Ok(p) = decode(data, &cfg) {
                pages.push(p);
            }
        }
        Ok(doc) => {
            for k in 0..doc.pages() {
                if let Ok(p) = doc.page(k, &limits) {
                    pages.push(p);
                }
            }
        }
    }
    for p in pages {
        let _ = d.digitize(InputSource::Image(Arc::new(p)), "fuzz");
    }
});
