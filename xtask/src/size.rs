//! `cargo xtask size`: what the widget costs a customer, file by file, against the budgets.

use std::io::Write;

use crate::budgets;
use crate::run::Env;

/// The widget build's files, in the order the browser fetches them.
const FILES: [(&str, &str); 4] = [
    ("loader", "tandem.js"),
    ("app JS", "tandem-widget.js"),
    ("app wasm", "tandem-widget_bg.wasm"),
    ("CSS", "widget.css"),
];

struct Sizes {
    raw: u64,
    gzip: u64,
    brotli: u64,
}

pub fn report(env: &Env) -> Result<(), String> {
    let dist = env.root.join("dist");
    println!("{:<10} {:<24} {:>9} {:>9} {:>9}", "part", "file", "raw", "gzip", "brotli");
    let mut opened = 0;
    let mut loader = 0;
    for (part, file) in FILES {
        let bytes = std::fs::read(dist.join(file)).map_err(|error| {
            format!("cannot read dist/{file} ({error}); build with `trunk build --release`")
        })?;
        let sizes = measure(&bytes)?;
        println!("{part:<10} {file:<24} {:>9} {:>9} {:>9}", sizes.raw, sizes.gzip, sizes.brotli);
        opened += sizes.brotli;
        if file == "tandem.js" {
            loader = sizes.brotli;
        }
    }
    println!("{:<35} {:>29}", "opened total (brotli)", opened);

    let mut over = Vec::new();
    if loader > budgets::LOADER_BROTLI {
        over.push(format!("loader {loader} B > {} B", budgets::LOADER_BROTLI));
    }
    if opened > budgets::OPENED_TOTAL_BROTLI {
        over.push(format!("opened total {opened} B > {} B", budgets::OPENED_TOTAL_BROTLI));
    }
    println!(
        "budgets (xtask/src/budgets.rs): loader ≤ {} B, opened total ≤ {} B brotli",
        budgets::LOADER_BROTLI,
        budgets::OPENED_TOTAL_BROTLI
    );
    if over.is_empty() { Ok(()) } else { Err(format!("over budget: {}", over.join(", "))) }
}

fn measure(bytes: &[u8]) -> Result<Sizes, String> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes).map_err(|error| error.to_string())?;
    let gzip = gzip.finish().map_err(|error| error.to_string())?.len();

    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params).map_err(|error| error.to_string())?;

    Ok(Sizes { raw: bytes.len() as u64, gzip: gzip as u64, brotli: brotli.len() as u64 })
}
