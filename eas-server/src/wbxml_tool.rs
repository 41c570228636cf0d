//! `eas-server wbxml decode|encode`: turn a captured request or response body
//! into the XML of MS-ASCMD's examples, and back, so users can read traffic
//! and replay hand-edited requests.

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use eas_proto::wbxml::{Element, Limits};
use eas_proto::xml;

#[derive(Debug, Subcommand)]
pub enum WbxmlCommand {
    /// WBXML in, XML out (`-` reads standard input).
    Decode {
        /// A WBXML file, e.g. a request body saved from a capture.
        file: PathBuf,
        /// The input is hex text (as copied from a packet capture), not bytes.
        #[arg(long)]
        hex: bool,
        /// Write here instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// XML in, WBXML out (`-` reads standard input).
    Encode {
        /// An XML file in the form `decode` writes.
        file: PathBuf,
        /// Write here instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(cmd: WbxmlCommand) -> anyhow::Result<()> {
    match cmd {
        WbxmlCommand::Decode { file, hex, output } => {
            let mut input = read_input(&file)?;
            if hex {
                input = from_hex(&input)
                    .with_context(|| format!("reading {} as hex", file.display()))?;
            }
            let doc = Element::decode(&input, Limits::default()).with_context(|| {
                format!("{} is not an ActiveSync WBXML document", file.display())
            })?;
            write_output(output.as_deref(), xml::to_xml(&doc).as_bytes(), false)
        }
        WbxmlCommand::Encode { file, output } => {
            let input = read_input(&file)?;
            let text = String::from_utf8(input)
                .with_context(|| format!("{} is not UTF-8 text", file.display()))?;
            let doc = xml::from_xml(&text, Limits::default())
                .with_context(|| format!("{} is not an ActiveSync XML document", file.display()))?;
            let bytes = doc.encode().context("encoding WBXML")?;
            write_output(output.as_deref(), &bytes, true)
        }
    }
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        Ok(buf)
    } else {
        fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn write_output(path: Option<&Path>, bytes: &[u8], binary: bool) -> anyhow::Result<()> {
    match path {
        Some(path) if path != Path::new("-") => {
            fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
        }
        _ => {
            let mut stdout = io::stdout().lock();
            if binary && stdout.is_terminal() {
                bail!(
                    "refusing to write WBXML to a terminal: use -o FILE or pipe it, e.g. `| xxd`"
                );
            }
            stdout.write_all(bytes).context("writing standard output")?;
            stdout.flush().context("writing standard output")
        }
    }
}

/// Hex digits, with any white space, `0x` prefixes, colons or commas between
/// bytes, as packet tools print them.
fn from_hex(text: &[u8]) -> anyhow::Result<Vec<u8>> {
    let text = String::from_utf8_lossy(text)
        .replace("0x", "")
        .replace("0X", "");
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !(b.is_ascii_whitespace() || *b == b':' || *b == b','))
        .collect();
    if digits.len() % 2 != 0 {
        bail!("odd number of hex digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(s, 16).with_context(|| format!("{s:?} is not a hex byte"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::from_hex;

    #[test]
    fn hex_forms() {
        assert_eq!(from_hex(b"03 01 6a 00\n45").unwrap(), [3, 1, 0x6A, 0, 0x45]);
        assert_eq!(from_hex(b"0x03,0x01:6A").unwrap(), [3, 1, 0x6A]);
        assert!(from_hex(b"031").is_err());
        assert!(from_hex(b"zz").is_err());
    }
}
