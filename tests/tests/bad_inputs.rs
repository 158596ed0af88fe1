//! Bad input: a folder of broken, hostile and non-ECG files mixed with good
//! pages goes through `ecgdig digitize`. Every bad file must get a clear
//! per-file error of the expected class, good pages must still produce their
//! outputs, nothing may panic, and `failures.csv` must list exactly the bad
//! files. Runs in-process (`ecgdig::batch::run_batch`) and, when an
//! up-to-date `ecgdig` binary sits in the target folder, as a subprocess too
//! (exit code 1).

use ecgdig::batch::{collect_inputs, run_batch, BatchOptions, CollectOptions, Status};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::*;
use ecgdig_render::{page, synth};
use ecgdig_tests::cli::fresh_binary;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut c = kind.to_vec();
    c.extend_from_slice(data);
    out.extend_from_slice(&crc32(&c).to_be_bytes());
    out
}

/// A PNG whose header declares `w` x `h` (with a tiny, wrong IDAT).
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

fn encode(img: &image::DynamicImage, fmt: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), fmt).unwrap();
    out
}

/// A small baseline JPEG whose SOF0 declares `w` x `h`.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(16, 16));
    let mut b = encode(&img, image::ImageFormat::Jpeg);
    let sof = b
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    b[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    b[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    b
}

/// A BMP whose header declares `w` x `h`.
fn bmp_declaring(w: i32, h: i32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
    let mut b = encode(&img, image::ImageFormat::Bmp);
    b[18..22].copy_from_slice(&w.to_le_bytes());
    b[22..26].copy_from_slice(&h.to_le_bytes());
    b
}

/// A hand-made little-endian grey TIFF declaring `w` x `h` with 16 bytes of data.
fn tiff_declaring(w: u32, h: u32) -> Vec<u8> {
    let entries: [(u16, u16, u32, u32); 8] = [
        (256, 4, 1, w),  // ImageWidth
        (257, 4, 1, h),  // ImageLength
        (258, 3, 1, 8),  // BitsPerSample
        (259, 3, 1, 1),  // Compression: none
        (262, 3, 1, 1),  // Photometric: black is zero
        (273, 4, 1, 8),  // StripOffsets
        (278, 4, 1, h),  // RowsPerStrip
        (279, 4, 1, 16), // StripByteCounts
    ];
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&24u32.to_le_bytes()); // IFD after 16 data bytes
    b.extend_from_slice(&[0x80; 16]);
    b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, ty, n, v) in entries {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&n.to_le_bytes());
        if ty == 3 {
            b.extend_from_slice(&(v as u16).to_le_bytes());
            b.extend_from_slice(&[0, 0]);
        } else {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b
}

/// A PDF with one page showing an RGB image at `dpi` (raw, unfiltered stream).
fn pdf_with_image(img: &image::RgbImage, dpi: f32) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let (wpt, hpt) = (w as f32 * 72.0 / dpi, h as f32 * 72.0 / dpi);
    let content = format!("q {wpt} 0 0 {hpt} 0 0 cm /Im0 Do Q");
    let mut objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {wpt} {hpt}] /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>"
        )
        .into_bytes(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()).into_bytes(),
    ];
    let mut im = format!(
        "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>\nstream\n",
        img.as_raw().len()
    )
    .into_bytes();
    im.extend_from_slice(img.as_raw());
    im.extend_from_slice(b"\nendstream");
    objs.push(im);
    ecgdig_stages::input::pdf::assemble_pdf(&objs)
}

fn zip_bytes() -> Vec<u8> {
    // a stored (uncompressed) zip with one file "a.txt" = "hello"
    let mut z = Vec::new();
    let data = b"hello";
    let crc = crc32(data);
    z.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&5u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(b"a.txt");
    z.extend_from_slice(data);
    z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\0\0");
    z
}

struct Corpus {
    dir: tempfile::TempDir,
    /// File name -> expected error class.
    bad: BTreeMap<String, ErrorClass>,
    /// Output stems that must be produced by good files.
    good_stems: Vec<String>,
}

fn good_page(seed: u64) -> image::RgbImage {
    let record = synth::synthesize(&synth::SynthParams::default(), seed);
    let spec = page::PageSpec {
        dpi: 100.0,
        ..Default::default()
    };
    page::render_page(&record, &spec, &page::distort::Distortions::default(), seed)
        .expect("render a good page")
        .image
}

fn build_corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("in");
    std::fs::create_dir_all(root.join("nested/deeper")).unwrap();
    let mut bad = BTreeMap::new();
    let mut put = |name: &str, bytes: &[u8], class: Option<ErrorClass>| {
        std::fs::write(root.join(name), bytes).unwrap();
        if let Some(c) = class {
            bad.insert(name.to_string(), c);
        }
    };
    let page1 = good_page(1);
    let page2 = good_page(2);
    let png = encode(
        &image::DynamicImage::ImageRgb8(page1.clone()),
        image::ImageFormat::Png,
    );
    let jpg = encode(
        &image::DynamicImage::ImageRgb8(page2.clone()),
        image::ImageFormat::Jpeg,
    );

    // --- good pages
    let mut good_stems = vec![];
    put("good-page.png", &png, None);
    good_stems.push("good-page".to_string());
    put("nested/deeper/good-photo.jpg", &jpg, None);
    good_stems.push("good-photo".to_string());
    // PNG bytes behind a .jpg name: formats are sniffed, not trusted
    put("misnamed-png.jpg", &png, None);
    good_stems.push("misnamed-png".to_string());
    // 16-bit grey with alpha
    let grey16 = image::DynamicImage::ImageRgb8(page1.clone()).into_luma_alpha16();
    put(
        "good-grey16-alpha.png",
        &encode(
            &image::DynamicImage::ImageLumaA16(grey16),
            image::ImageFormat::Png,
        ),
        None,
    );
    good_stems.push("good-grey16-alpha".to_string());
    // two-page TIFF: one output per page
    {
        use tiff::encoder::{colortype, TiffEncoder};
        let mut out = Cursor::new(Vec::new());
        let mut enc = TiffEncoder::new(&mut out).unwrap();
        for p in [&page1, &page2] {
            enc.write_image::<colortype::RGB8>(p.width(), p.height(), p.as_raw())
                .unwrap();
        }
        put("two-pages.tiff", &out.into_inner(), None);
        good_stems.push("two-pages-p1".to_string());
        good_stems.push("two-pages-p2".to_string());
    }
    // a PDF page holding a scan
    put("scan.pdf", &pdf_with_image(&page2, 100.0), None);
    good_stems.push("scan".to_string());

    // --- bad inputs
    use ErrorClass::*;
    put("empty.png", b"", Some(Decode));
    put("truncated.png", &png[..png.len() / 2], Some(Decode));
    put("png-magic-only.png", &png[..8], Some(Decode));
    let mut corrupt = png.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 64] {
        *b ^= 0x5A;
    }
    put("corrupt-idat.png", &corrupt, Some(Decode));
    put("jpeg-soi-only.jpg", &[0xFF, 0xD8], Some(Decode));
    put(
        "jpeg-header-only.jpg",
        &jpg[..200.min(jpg.len())],
        Some(Decode),
    );
    put(
        "text.png",
        b"this is a text file, not an image\n",
        Some(Decode),
    );
    put(
        "notes.jpeg",
        b"<html><body>not a photo</body></html>",
        Some(Decode),
    );
    put("archive.png", &zip_bytes(), Some(Decode));
    put("zeros.bmp", &[0u8; 4096], Some(Decode));
    let noise: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    put("random.tif", &noise, Some(Decode));
    put(
        "gif.png",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        Some(Decode),
    );
    put(
        "webp.png",
        b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00",
        Some(Decode),
    );
    put("zero-size.png", &png_declaring(0, 0), Some(Decode));
    put("bomb.png", &png_declaring(100_000, 100_000), Some(TooLarge));
    put(
        "bomb-wide.png",
        &png_declaring(2_000_000_000, 2),
        Some(TooLarge),
    );
    put("bomb.jpg", &jpeg_declaring(65_000, 65_000), Some(TooLarge));
    put("bomb.bmp", &bmp_declaring(100_000, 100_000), Some(TooLarge));
    put(
        "bomb.tif",
        &tiff_declaring(100_000, 100_000),
        Some(TooLarge),
    );
    put(
        "bomb.pdf",
        &ecgdig_stages::input::pdf::sample_pdf(1, 200_000.0, 200_000.0),
        Some(TooLarge),
    );
    put(
        "garbage.pdf",
        b"%PDF-1.7\n\x00\x01\x02 garbage",
        Some(Decode),
    );
    let pdf = pdf_with_image(&page1, 100.0);
    put("truncated.pdf", &pdf[..pdf.len() / 3], Some(Decode));
    let tiny = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        10,
        10,
        image::Rgb([255, 255, 255]),
    ));
    put(
        "tiny.png",
        &encode(&tiny, image::ImageFormat::Png),
        Some(TooSmall),
    );
    let strip = image::DynamicImage::ImageLuma8(image::GrayImage::new(150, 3000));
    put(
        "strip.jpg",
        &encode(&strip, image::ImageFormat::Jpeg),
        Some(TooSmall),
    );
    let blank = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        1100,
        850,
        image::Rgb([255, 255, 255]),
    ));
    put(
        "blank-page.png",
        &encode(&blank, image::ImageFormat::Png),
        Some(NotEcg),
    );
    // a "photo" with no ECG: smooth colour gradients and a few shapes
    let photo = image::RgbImage::from_fn(900, 700, |x, y| {
        let r = (x * 255 / 900) as u8;
        let g = (y * 255 / 700) as u8;
        let inside = (x as i32 - 450).pow(2) + (y as i32 - 350).pow(2) < 150 * 150;
        if inside {
            image::Rgb([30, 90, 200])
        } else {
            image::Rgb([r, g, 120])
        }
    });
    put(
        "holiday-photo.jpg",
        &encode(
            &image::DynamicImage::ImageRgb8(photo),
            image::ImageFormat::Jpeg,
        ),
        Some(NotEcg),
    );
    // pure noise: ink everywhere, no grid, no beats
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise = image::RgbImage::from_fn(1100, 850, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let v = state.to_le_bytes();
        image::Rgb([v[0], v[1], v[2]])
    });
    put(
        "noise.png",
        &encode(
            &image::DynamicImage::ImageRgb8(noise),
            image::ImageFormat::Png,
        ),
        Some(NotEcg),
    );
    // the first half of a JPEG page (a download cut short): the decoder
    // would fill the lower half with grey
    let whole = encode(
        &image::DynamicImage::ImageRgb8(good_page(7)),
        image::ImageFormat::Jpeg,
    );
    put("cut-short.jpg", &whole[..whole.len() / 2], Some(Decode));
    // a dangling symlink: listed, but cannot be read
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("gone.png"), root.join("dangling.png")).unwrap();
        bad.insert("dangling.png".to_string(), Io);
    }
    Corpus {
        dir,
        bad,
        good_stems,
    }
}

fn name_of(p: &Path, root: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// failures.csv rows as (input relative to `root`, error class).
fn failures_rows(csv: &str, root: &Path) -> BTreeMap<String, String> {
    csv.lines()
        .skip(1)
        .map(|l| {
            // input may be quoted; the class is the third field
            let (input, rest) = if let Some(stripped) = l.strip_prefix('"') {
                let end = stripped.find("\",").unwrap();
                (stripped[..end].replace("\"\"", "\""), &stripped[end + 2..])
            } else {
                let end = l.find(',').unwrap();
                (l[..end].to_string(), &l[end + 1..])
            };
            let mut f = rest.splitn(3, ',');
            let _page = f.next();
            let class = f.next().unwrap_or("").to_string();
            (name_of(Path::new(&input), root), class)
        })
        .collect()
}

#[test]
fn bad_inputs_fail_clearly_and_the_batch_goes_on() {
    ecgdig_stages::link();
    let corpus = build_corpus();
    let root = corpus.dir.path().join("in");
    let out = corpus.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    assert!(
        corpus.bad.len() >= 25,
        "corpus has {} kinds",
        corpus.bad.len()
    );

    let d = Digitizer::new(&DigitizerOptions {
        run: RunOptions {
            out_dir: Some(out.clone()),
            ..RunOptions::default()
        },
        ..DigitizerOptions::default()
    })
    .unwrap();
    let (inputs, problems) =
        collect_inputs(std::slice::from_ref(&root), &CollectOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    let mut report = run_batch(&d, &inputs, &BatchOptions::default(), &|_| {});
    report.problems = problems;

    let mut got: BTreeMap<String, ErrorClass> = BTreeMap::new();
    let mut msgs = Vec::new();
    for o in &report.outcomes {
        let name = name_of(&o.path, &root);
        match &o.status {
            Status::Failed(e) => {
                assert!(!e.message.contains("panic"), "{name} panicked: {e}");
                assert!(!e.message.trim().is_empty(), "{name}: empty message");
                msgs.push(format!("{name}: {e}"));
                got.insert(name, e.class);
            }
            Status::Ok(_) => {}
            Status::Skipped => panic!("{name} skipped"),
        }
    }
    eprintln!("{}", msgs.join("\n"));
    assert_eq!(got, corpus.bad, "error classes per bad file");
    for stem in &corpus.good_stems {
        let csv = out.join(format!("{stem}.csv"));
        assert!(csv.exists(), "good page {stem} produced no CSV");
        let rec = ecgdig_core::page_csv::read(&csv, 10.0).unwrap();
        assert_eq!(rec.n_samples, 5000, "{stem}");
    }
    // failures.csv lists exactly the bad files
    let path = report.write_failures(&out).unwrap();
    let rows = failures_rows(&std::fs::read_to_string(path).unwrap(), &root);
    let want: BTreeMap<String, String> = corpus
        .bad
        .iter()
        .map(|(k, v)| (k.clone(), v.name().to_string()))
        .collect();
    assert_eq!(rows, want);
    assert_eq!(report.failed(), corpus.bad.len());
    // no temporary files left behind
    for e in std::fs::read_dir(&out).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.ends_with(".tmp"), "temporary file left: {n}");
    }

    // the same folder through the command-line tool, when it is built
    let Some(bin) = fresh_binary() else {
        return;
    };
    let out2 = corpus.dir.path().join("out-cli");
    let status = std::process::Command::new(&bin)
        .args(["digitize", "-q", "-j", "2", "-o"])
        .arg(&out2)
        .arg(&root)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "exit code with some failures");
    let rows = failures_rows(
        &std::fs::read_to_string(out2.join("failures.csv")).unwrap(),
        &root,
    );
    assert_eq!(rows, want, "failures.csv of the CLI run");
    // review.csv: every page with its verdict; the bad ones failed
    let review = std::fs::read_to_string(out2.join("review.csv")).unwrap();
    let mut verdicts: BTreeMap<String, String> = BTreeMap::new();
    for line in review.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let name = name_of(Path::new(cols[0]), &root);
        verdicts.insert(format!("{name}#{}", cols[1]), cols[3].to_string());
    }
    for (name, v) in &verdicts {
        let file = name.split('#').next().unwrap_or_default();
        let bad = corpus.bad.contains_key(file);
        assert_eq!(bad, v == "failed", "review.csv: {name} is {v}\n{review}");
    }
    assert!(verdicts.len() >= corpus.good_stems.len(), "{review}");
    for stem in &corpus.good_stems {
        assert!(out2.join(format!("{stem}.csv")).exists(), "CLI: {stem}");
    }
    // --skip-existing: everything good is skipped, the bad still fail
    let status = std::process::Command::new(&bin)
        .args(["digitize", "-q", "--skip-existing", "-o"])
        .arg(&out2)
        .arg(&root)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn unreadable_files_and_read_only_output_folders() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        ecgdig_stages::link();
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked.png");
        std::fs::write(&locked, b"\x89PNG\r\n\x1a\n").unwrap();
        // an output folder that cannot be created (its parent is a file) is
        // a usage error, exit 2, even for root
        if let Some(bin) = fresh_binary() {
            let out = std::process::Command::new(&bin)
                .args(["digitize", "-q", "-o"])
                .arg(locked.join("out"))
                .arg(&locked)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("cannot create output folder"), "{err}");
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_ok() {
            eprintln!(
                "SKIPPED: running with permission to read mode-000 files (root?); permission errors cannot be produced here"
            );
            return;
        }
        let out = dir.path().join("out");
        let d = Digitizer::new(&DigitizerOptions {
            run: RunOptions {
                out_dir: Some(out.clone()),
                ..RunOptions::default()
            },
            ..DigitizerOptions::default()
        })
        .unwrap();
        let report = run_batch(
            &d,
            std::slice::from_ref(&locked),
            &BatchOptions::default(),
            &|_| {},
        );
        let e = report.outcomes[0].error().expect("unreadable file fails");
        assert_eq!(e.class, ErrorClass::Io, "{e}");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();

        // an output folder without write permission is a usage error (exit 2)
        let ro = dir.path().join("read-only");
        std::fs::create_dir_all(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        if let Some(bin) = fresh_binary() {
            let status = std::process::Command::new(&bin)
                .args(["digitize", "-q", "-o"])
                .arg(&ro)
                .arg(&locked)
                .status()
                .unwrap();
            assert_eq!(status.code(), Some(2));
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
