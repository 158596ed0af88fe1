//! WFDB records: header parsing, signal files, physical units, and a writer.
//!
//! Reads the header (`<rec>.hea`) and its signal files in formats 16, 61,
//! 80, 212, 24 and 32 (one sample per frame per signal, several signals per
//! file, several files per record, byte offsets). Digital samples become
//! physical values `(d - baseline) / gain`, converted to millivolts when the
//! header's units are `uV`/`µV`/`nV`/`V`. The format's *invalid sample* value
//! (e.g. -32768 in format 16) becomes NaN, as python `wfdb` does. Checksums
//! are not verified.
//!
//! The writer produces a format-16 record in mV (gain 1000/mV, baseline 0)
//! and stores NaN (an unplotted sample) as the invalid value -32768.

use ecgdig_core::leads::Lead;
use ecgdig_core::output::write_atomic;
use ecgdig_core::record::Record;
use std::path::{Path, PathBuf};

/// One signal line of a header.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalSpec {
    pub file: String,
    pub format: u16,
    /// Byte offset of the first sample in `file`.
    pub byte_offset: u64,
    /// ADC units per physical unit.
    pub gain: f64,
    pub baseline: i64,
    pub units: String,
    /// Signal description (the lead name for ECGs).
    pub description: String,
}

/// A parsed `.hea` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub name: String,
    pub fs: f64,
    /// Samples per signal, when the header states it.
    pub n_samples: Option<usize>,
    pub signals: Vec<SignalSpec>,
    /// Comment lines without the leading `#`.
    pub comments: Vec<String>,
}

/// Physical signals of a record, in mV, NaN where the sample is invalid.
#[derive(Clone, Debug)]
pub struct PhysicalRecord {
    pub header: Header,
    pub n_samples: usize,
    /// One column per header signal, in header order.
    pub signals: Vec<Vec<f64>>,
}

impl PhysicalRecord {
    /// The column of a lead, matched by signal description (`Lead::from_name`).
    pub fn lead(&self, lead: Lead) -> Option<&[f64]> {
        self.header
            .signals
            .iter()
            .position(|s| Lead::from_name(&s.description) == Some(lead))
            .map(|i| self.signals[i].as_slice())
    }
}

/// `x.hea` or `x` (no extension) -> the header path.
pub fn header_path(path: &Path) -> PathBuf {
    if path.extension().is_some_and(|e| e == "hea") {
        path.to_path_buf()
    } else {
        let mut s = path.as_os_str().to_owned();
        s.push(".hea");
        PathBuf::from(s)
    }
}

/// Parses header text. `origin` names the file in error messages.
pub fn parse_header(text: &str, origin: &str) -> Result<Header, String> {
    let mut comments = Vec::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix('#') {
            comments.push(c.trim().to_string());
        } else if !t.is_empty() {
            lines.push(t);
        }
    }
    let Some(first) = lines.first() else {
        return Err(format!("{origin}: empty header (no record line)"));
    };
    let tok: Vec<&str> = first.split_whitespace().collect();
    let name = tok[0].split('/').next().unwrap_or(tok[0]).to_string();
    if tok[0].contains('/') {
        return Err(format!(
            "{origin}: `{}` is a multi-segment record, which is not supported",
            tok[0]
        ));
    }
    let n_sig: usize = tok
        .get(1)
        .ok_or_else(|| format!("{origin}: record line `{first}` lacks the number of signals"))?
        .parse()
        .map_err(|_| format!("{origin}: bad number of signals in `{first}`"))?;
    let fs = match tok.get(2) {
        Some(t) => {
            leading_number(t).ok_or_else(|| format!("{origin}: bad sampling frequency `{t}`"))?
        }
        None => 250.0,
    };
    if fs.is_nan() || fs <= 0.0 {
        return Err(format!(
            "{origin}: sampling frequency must be positive, got {fs}"
        ));
    }
    let n_samples = match tok.get(3) {
        Some(t) => Some(
            t.parse::<usize>()
                .map_err(|_| format!("{origin}: bad number of samples `{t}`"))?,
        ),
        None => None,
    };
    if lines.len() < 1 + n_sig {
        return Err(format!(
            "{origin}: header announces {n_sig} signals but has {} signal lines",
            lines.len() - 1
        ));
    }
    let signals = lines[1..=n_sig]
        .iter()
        .enumerate()
        .map(|(i, l)| parse_signal_line(l).map_err(|e| format!("{origin}: signal {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Header {
        name,
        fs,
        n_samples,
        signals,
        comments,
    })
}

fn leading_number(t: &str) -> Option<f64> {
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(t.len());
    t[..end].parse().ok()
}

fn parse_signal_line(line: &str) -> Result<SignalSpec, String> {
    let tok: Vec<&str> = line.split_whitespace().collect();
    let file = tok[0].to_string();
    let fmt_tok = tok.get(1).ok_or("missing format field")?;
    let digits_end = fmt_tok
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(fmt_tok.len());
    let format: u16 = fmt_tok[..digits_end]
        .parse()
        .map_err(|_| format!("bad format `{fmt_tok}`"))?;
    let mut byte_offset = 0u64;
    let rest = &fmt_tok[digits_end..];
    if let Some(x) = rest.strip_prefix('x') {
        let spf: String = x.chars().take_while(|c| c.is_ascii_digit()).collect();
        if spf.parse::<u32>().unwrap_or(1) != 1 {
            return Err(format!(
                "format `{fmt_tok}` has {spf} samples per frame; only 1 is supported"
            ));
        }
    }
    if let Some(p) = rest.find('+') {
        byte_offset = rest[p + 1..]
            .parse()
            .map_err(|_| format!("bad byte offset in `{fmt_tok}`"))?;
    }
    let adc_zero: i64 = tok.get(4).and_then(|t| t.parse().ok()).unwrap_or(0);
    let (mut gain, mut baseline, mut units) = (200.0, adc_zero, "mV".to_string());
    if let Some(g) = tok.get(2) {
        let (num, after) = match g.find(['(', '/']) {
            Some(p) => (&g[..p], &g[p..]),
            None => (*g, ""),
        };
        let parsed: f64 = num.parse().map_err(|_| format!("bad gain `{g}`"))?;
        if parsed != 0.0 {
            gain = parsed;
        }
        if let Some(b) = after.strip_prefix('(') {
            let close = b
                .find(')')
                .ok_or_else(|| format!("bad baseline in `{g}`"))?;
            baseline = b[..close]
                .parse()
                .map_err(|_| format!("bad baseline in `{g}`"))?;
        }
        if let Some(p) = after.find('/') {
            units = after[p + 1..].to_string();
        }
    }
    let description = if tok.len() > 8 {
        tok[8..].join(" ")
    } else {
        String::new()
    };
    Ok(SignalSpec {
        file,
        format,
        byte_offset,
        gain,
        baseline,
        units,
        description,
    })
}

/// Reads and parses a header (`x.hea` or `x`).
pub fn read_header(path: &Path) -> Result<Header, String> {
    let hp = header_path(path);
    let text = std::fs::read_to_string(&hp).map_err(|e| format!("{}: {e}", hp.display()))?;
    parse_header(&text, &hp.display().to_string())
}

/// Multiplier that turns the header's physical units into millivolts.
fn to_millivolts(units: &str) -> f64 {
    match units.trim() {
        "uV" | "µV" | "μV" => 1e-3,
        "nV" => 1e-6,
        "V" => 1e3,
        _ => 1.0,
    }
}

/// The invalid-sample value of a format; `None` for an unsupported format.
fn format_info(format: u16) -> Option<i32> {
    match format {
        16 | 61 => Some(-32768),
        80 => Some(-128),
        212 => Some(-2048),
        24 => Some(-(1 << 23)),
        32 => Some(i32::MIN),
        _ => None,
    }
}

/// Decodes a byte stream into samples of one format.
fn decode(bytes: &[u8], format: u16) -> Vec<i32> {
    match format {
        16 => bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]) as i32)
            .collect(),
        61 => bytes
            .chunks_exact(2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]) as i32)
            .collect(),
        80 => bytes.iter().map(|&b| b as i32 - 128).collect(),
        24 => bytes
            .chunks_exact(3)
            .map(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]])) >> 8)
            .collect(),
        32 => bytes
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        212 => {
            let sext = |v: i32| if v >= 2048 { v - 4096 } else { v };
            let mut out = Vec::with_capacity(bytes.len() * 2 / 3 + 1);
            for c in bytes.chunks(3) {
                if c.len() >= 2 {
                    out.push(sext(c[0] as i32 | ((c[1] as i32 & 0x0F) << 8)));
                }
                if c.len() == 3 {
                    out.push(sext(c[2] as i32 | ((c[1] as i32 & 0xF0) << 4)));
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Reads the digital samples of every signal, in header order. `dir` is the
/// folder holding the signal files.
pub fn read_digital(dir: &Path, header: &Header) -> Result<(usize, Vec<Vec<i32>>), String> {
    let mut files: Vec<&str> = Vec::new();
    for s in &header.signals {
        if !files.contains(&s.file.as_str()) {
            files.push(&s.file);
        }
    }
    let mut out: Vec<Vec<i32>> = vec![Vec::new(); header.signals.len()];
    let mut n_samples = header.n_samples;
    for file in files {
        let members: Vec<usize> = (0..header.signals.len())
            .filter(|&i| header.signals[i].file == file)
            .collect();
        let first = &header.signals[members[0]];
        if members
            .iter()
            .any(|&i| header.signals[i].format != first.format)
        {
            return Err(format!(
                "{}: signals stored in {file} use different formats",
                header.name
            ));
        }
        if format_info(first.format).is_none() {
            return Err(format!(
                "{}: signal format {} is not supported (supported: 16, 61, 80, 212, 24, 32)",
                header.name, first.format
            ));
        }
        let path = dir.join(file);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let start = (first.byte_offset as usize).min(bytes.len());
        let stream = decode(&bytes[start..], first.format);
        let frames = stream.len() / members.len();
        let n = *n_samples.get_or_insert(frames);
        if frames < n {
            return Err(format!(
                "{}: holds {frames} samples per signal but the header announces {n}",
                path.display()
            ));
        }
        for (k, &sig) in members.iter().enumerate() {
            out[sig] = (0..n).map(|t| stream[t * members.len() + k]).collect();
        }
    }
    Ok((n_samples.unwrap_or(0), out))
}

/// Reads a record (`x.hea` or `x`) as physical values in mV, NaN where invalid.
pub fn read_physical(path: &Path) -> Result<PhysicalRecord, String> {
    let header = read_header(path)?;
    let hp = header_path(path);
    let dir = hp
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (n_samples, digital) = read_digital(dir, &header)?;
    let signals = header
        .signals
        .iter()
        .zip(digital)
        .map(|(spec, d)| {
            let invalid = format_info(spec.format).unwrap_or(i32::MIN);
            let scale = to_millivolts(&spec.units);
            d.into_iter()
                .map(|v| {
                    if v == invalid {
                        f64::NAN
                    } else {
                        (v as f64 - spec.baseline as f64) / spec.gain * scale
                    }
                })
                .collect()
        })
        .collect();
    Ok(PhysicalRecord {
        header,
        n_samples,
        signals,
    })
}

/// Reads a record (`x.hea` or `x`) into a [`Record`]; signals whose name is
/// not one of the twelve leads are skipped.
pub fn read_record(path: &Path) -> Result<Record, String> {
    let p = read_physical(path)?;
    let mut rec = Record::new(p.header.name.clone(), p.header.fs as f32, p.n_samples);
    for (spec, col) in p.header.signals.iter().zip(&p.signals) {
        if let Some(lead) = Lead::from_name(&spec.description) {
            rec.set(lead, col.iter().map(|&v| v as f32).collect());
        }
    }
    Ok(rec)
}

/// Writes `<dir>/<name>.hea` and `<dir>/<name>.dat` (format 16, gain 1000/mV,
/// NaN stored as -32768). Only the leads the record has are written, in
/// canonical order.
pub fn write_record(dir: &Path, name: &str, rec: &Record) -> Result<(), String> {
    if name.is_empty() || name.contains(['/', '\\', ' ']) {
        return Err(format!("`{name}` is not a valid WFDB record name"));
    }
    let leads: Vec<(Lead, &[f32])> = Lead::ALL
        .iter()
        .filter_map(|&l| rec.lead(l).map(|s| (l, s)))
        .collect();
    if leads.is_empty() {
        return Err(format!("record {name} has no leads to write"));
    }
    let n = rec.n_samples;
    if let Some((l, s)) = leads.iter().find(|(_, s)| s.len() != n) {
        return Err(format!(
            "record {name}: lead {l} has {} samples, expected {n}",
            s.len()
        ));
    }
    let digital: Vec<Vec<i16>> = leads
        .iter()
        .map(|(_, s)| {
            s.iter()
                .map(|&v| {
                    if v.is_finite() {
                        (v as f64 * 1000.0).round().clamp(-32767.0, 32767.0) as i16
                    } else {
                        -32768
                    }
                })
                .collect()
        })
        .collect();
    let mut dat = Vec::with_capacity(n * leads.len() * 2);
    for t in 0..n {
        for col in &digital {
            dat.extend_from_slice(&col[t].to_le_bytes());
        }
    }
    let mut hea = format!("{name} {} {} {n}\n", leads.len(), rec.fs);
    for ((lead, _), col) in leads.iter().zip(&digital) {
        let init = col.first().copied().unwrap_or(0);
        let checksum = col.iter().fold(0i32, |a, &v| a.wrapping_add(v as i32)) as i16;
        hea.push_str(&format!(
            "{name}.dat 16 1000(0)/mV 16 0 {init} {checksum} 0 {lead}\n"
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dat_path = dir.join(format!("{name}.dat"));
    write_atomic(&dat_path, &dat).map_err(|e| format!("{}: {e}", dat_path.display()))?;
    let hea_path = dir.join(format!("{name}.hea"));
    write_atomic(&hea_path, hea.as_bytes()).map_err(|e| format!("{}: {e}", hea_path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{python_wfdb, shared_dir, temp_dir};
    use std::process::Command;

    fn sample_record() -> Record {
        let mut r = Record::new("syn", 250.0, 6);
        r.set(Lead::I, vec![0.0, 0.5, -1.25, f32::NAN, 2.0, 0.001]);
        r.set(Lead::V6, vec![-0.1, 0.2, 0.3, 0.4, -32.0, 1.0]);
        r
    }

    #[test]
    fn parses_header_fields() {
        let h = parse_header(
            "rec 2 360/720(0) 650000\n# age: 50\n\
             rec.dat 212+4 200(1024)/uV 11 1024 995 -22131 0 MLII lead\n\
             rec.dat 212 200 11 1024 1011 20052 0 V5\n",
            "rec.hea",
        )
        .unwrap();
        assert_eq!(
            (h.name.as_str(), h.fs, h.n_samples),
            ("rec", 360.0, Some(650000))
        );
        assert_eq!(h.comments, vec!["age: 50"]);
        let s = &h.signals[0];
        assert_eq!(
            (s.format, s.byte_offset, s.gain, s.baseline),
            (212, 4, 200.0, 1024)
        );
        assert_eq!(
            (s.units.as_str(), s.description.as_str()),
            ("uV", "MLII lead")
        );
        // no baseline: ADC zero; no units: mV
        assert_eq!(
            (h.signals[1].baseline, h.signals[1].units.as_str()),
            (1024, "mV")
        );
        let e = parse_header("rec 3 500 10\nrec.dat 16\n", "x.hea").unwrap_err();
        assert!(e.contains("x.hea") && e.contains("3 signals"), "{e}");
        let e = parse_header("rec 1 500 10\nrec.dat 16x4 200 16 0 0 0 0 I\n", "x.hea").unwrap_err();
        assert!(e.contains("samples per frame"), "{e}");
    }

    #[test]
    fn format_212_round_trip_from_hand_packed_bytes() {
        let d = temp_dir("fmt212");
        // two signals, three frames: (100, -5), (2047, -2047), (-1, 0)
        let samples: [i32; 6] = [100, -5, 2047, -2047, -1, 0];
        let mut bytes = Vec::new();
        for pair in samples.chunks(2) {
            let (a, b) = ((pair[0] & 0xFFF) as u32, (pair[1] & 0xFFF) as u32);
            bytes.push((a & 0xFF) as u8);
            bytes.push((((a >> 8) & 0x0F) | (((b >> 8) & 0x0F) << 4)) as u8);
            bytes.push((b & 0xFF) as u8);
        }
        std::fs::write(d.join("p.dat"), &bytes).unwrap();
        std::fs::write(
            d.join("p.hea"),
            "p 2 100 3\np.dat 212 200(0)/mV 12 0 100 0 0 II\np.dat 212 1000(10)/uV 12 0 -5 0 0 aVR\n",
        )
        .unwrap();
        let (n, dig) = read_digital(&d, &read_header(&d.join("p")).unwrap()).unwrap();
        assert_eq!(n, 3);
        assert_eq!(dig, vec![vec![100, 2047, -1], vec![-5, -2047, 0]]);
        let r = read_record(&d.join("p.hea")).unwrap();
        assert_eq!(r.lead(Lead::II).unwrap(), &[0.5, 2047.0 / 200.0, -0.005]);
        // (d - 10) / 1000 uV -> mV
        let avr = r.lead(Lead::AVR).unwrap();
        assert!((avr[0] - (-15.0 / 1000.0 / 1000.0)).abs() < 1e-9);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn multiple_files_and_missing_files() {
        let d = temp_dir("multi");
        let a: Vec<u8> = [1i16, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let b: Vec<u8> = [10i16, -32768, 30]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(d.join("a.dat"), a).unwrap();
        std::fs::write(d.join("b.dat"), b).unwrap();
        std::fs::write(
            d.join("m.hea"),
            "m 2 10 3\na.dat 16 10/mV 16 0 0 0 0 I\nb.dat 16 10/mV 16 0 0 0 0 V1\n",
        )
        .unwrap();
        let r = read_record(&d.join("m")).unwrap();
        assert_eq!(r.lead(Lead::I).unwrap(), &[0.1, 0.2, 0.3]);
        let v1 = r.lead(Lead::V1).unwrap();
        assert!(v1[1].is_nan() && v1[2] == 3.0);
        std::fs::write(d.join("m.hea"), "m 1 10 5\na.dat 16 10/mV 16 0 0 0 0 I\n").unwrap();
        let e = read_record(&d.join("m")).unwrap_err();
        assert!(e.contains("a.dat") && e.contains("announces 5"), "{e}");
        std::fs::remove_file(d.join("b.dat")).unwrap();
        std::fs::write(d.join("m.hea"), "m 1 10 3\nb.dat 16 10/mV 16 0 0 0 0 I\n").unwrap();
        assert!(read_record(&d.join("m")).unwrap_err().contains("b.dat"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn write_then_read_back() {
        let d = temp_dir("write");
        let rec = sample_record();
        write_record(&d, "syn", &rec).unwrap();
        let back = read_record(&d.join("syn.hea")).unwrap();
        assert_eq!((back.fs, back.n_samples), (250.0, 6));
        for lead in [Lead::I, Lead::V6] {
            for (a, b) in rec.lead(lead).unwrap().iter().zip(back.lead(lead).unwrap()) {
                assert!(
                    (a.is_nan() && b.is_nan()) || (a - b).abs() < 5e-4,
                    "{a} {b}"
                );
            }
        }
        assert!(back.lead(Lead::II).is_none());
        assert!(write_record(&d, "bad name", &rec).is_err());
        assert!(write_record(&d, "e", &Record::new("e", 1.0, 0)).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn written_records_read_in_python_wfdb() {
        if !python_wfdb() {
            eprintln!("skipped: python3 with numpy and wfdb is not available");
            return;
        }
        let d = temp_dir("pywrite");
        write_record(&d, "syn", &sample_record()).unwrap();
        let out = Command::new("python3")
            .arg("-c")
            .arg(
                "import sys, wfdb; r = wfdb.rdrecord(sys.argv[1]); \
                 print(float(r.fs), r.sig_len, ','.join(r.sig_name), r.units[0]); \
                 print(' '.join(repr(float(v)) for v in r.p_signal[:, 0])); \
                 print(' '.join(repr(float(v)) for v in r.p_signal[:, 1]))",
            )
            .arg(d.join("syn"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "250.0 6 I,V6 mV");
        assert_eq!(lines[1], "0.0 0.5 -1.25 nan 2.0 0.001");
        assert_eq!(lines[2], "-0.1 0.2 0.3 0.4 -32.0 1.0");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reads_every_shared_record() {
        let Some(shared) = shared_dir() else {
            eprintln!("skipped: ../shared (or $ECGDIG_SHARED) is not available");
            return;
        };
        let dir = shared.join("data/records");
        let mut heads: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "hea"))
            .collect();
        heads.sort();
        assert!(!heads.is_empty(), "no records in {}", dir.display());
        for h in &heads {
            let r = read_record(h).unwrap_or_else(|e| panic!("{e}"));
            assert!(Lead::ALL.iter().all(|l| r.lead(*l).is_some()), "{}", r.name);
            assert!(r.n_samples >= 1000 && [100.0, 500.0, 1000.0].contains(&r.fs));
            let ii = r.lead(Lead::II).unwrap();
            assert_eq!(ii.len(), r.n_samples);
            assert!(ii.iter().filter(|v| v.is_finite()).all(|v| v.abs() < 40.0));
        }
        if !python_wfdb() {
            eprintln!(
                "skipped the python wfdb comparison: python3 with numpy and wfdb is not available"
            );
            return;
        }
        for name in ["A0001", "00001_lr", "s0010_re", "JS00666"] {
            let path = dir.join(name);
            let ours = read_physical(&path).unwrap();
            let out = Command::new("python3")
                .arg("-c")
                .arg(
                    "import sys, wfdb; r = wfdb.rdrecord(sys.argv[1]); \
                     idx = [0, 1, 37, r.sig_len // 2, r.sig_len - 1]; \
                     print(r.fs, r.sig_len); \
                     [print(' '.join(repr(float(r.p_signal[i, c])) for i in idx)) for c in range(r.n_sig)]",
                )
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let mut lines = text.lines();
            let head: Vec<f64> = lines
                .next()
                .unwrap()
                .split(' ')
                .map(|v| v.parse().unwrap())
                .collect();
            assert_eq!((ours.header.fs, ours.n_samples as f64), (head[0], head[1]));
            let n = ours.n_samples;
            let idx = [0, 1, 37, n / 2, n - 1];
            for (c, line) in lines.enumerate() {
                for (k, v) in line.split(' ').enumerate() {
                    let py: f64 = v.parse().unwrap();
                    let me = ours.signals[c][idx[k]];
                    assert!(
                        (py.is_nan() && me.is_nan()) || py == me,
                        "{name} signal {c} sample {}: python {py}, ours {me}",
                        idx[k]
                    );
                }
            }
        }
    }
}
