//! HL7 escape sequences (v2.5.1 chapter 2.7): `\F\ \S\ \T\ \R\ \E\` for the delimiters,
//! `\Xhh..\` for hexadecimal bytes, `\.br\` for a line break; the other formatting and
//! character-set sequences (`\H\ \N\ \.sp\ \Cxxyy\ \Mxxyyzz\ \Zxx\`) carry no data for a
//! registry and are dropped on decoding.

use crate::er7::Separators;

/// Decodes the escape sequences of one primitive value. An unterminated escape is kept as
/// written (senders get it wrong; losing the text would be worse).
pub fn decode(raw: &str, seps: &Separators) -> String {
    let esc = seps.escape;
    if !raw.contains(esc) {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc.len_utf8()..];
        let Some(end) = after.find(esc) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let seq = &after[..end];
        match seq {
            "F" => out.push(seps.field),
            "S" => out.push(seps.component),
            "T" => out.push(seps.subcomponent),
            "R" => out.push(seps.repetition),
            "E" => out.push(seps.escape),
            ".br" => out.push('\n'),
            _ if seq.starts_with('X') => out.push_str(&decode_hex(&seq[1..])),
            _ => {}
        }
        rest = &after[end + esc.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// `\Xhh..\`: the bytes as UTF-8 when they are, else one Latin-1 character per byte.
fn decode_hex(hex: &str) -> String {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return String::new();
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    }
}

/// Encodes a value so that none of the message's delimiters nor a segment terminator appears
/// in it literally.
pub fn encode(value: &str, seps: &Separators) -> String {
    let mut out = String::with_capacity(value.len());
    let e = seps.escape;
    for c in value.chars() {
        let code = if c == seps.escape {
            "E"
        } else if c == seps.field {
            "F"
        } else if c == seps.component {
            "S"
        } else if c == seps.subcomponent {
            "T"
        } else if c == seps.repetition {
            "R"
        } else if c == '\r' {
            "X0D"
        } else if c == '\n' {
            "X0A"
        } else {
            out.push(c);
            continue;
        };
        out.push(e);
        out.push_str(code);
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_delimiter_hex_and_break() {
        let s = Separators::default();
        assert_eq!(
            decode(r"a\F\b\S\c\T\d\R\e\E\f\X0D0A\g\.br\h\H\i\N\", &s),
            "a|b^c&d~e\\f\r\ng\nhi"
        );
        assert_eq!(decode(r"caf\XC3A9\", &s), "café");
        assert_eq!(decode(r"\XE9\", &s), "é");
        assert_eq!(decode(r"é\F\ü", &s), "é|ü");
        assert_eq!(decode(r"open\F", &s), r"open\F");
    }

    #[test]
    fn encode_then_decode_is_identity() {
        let s = Separators::default();
        let v = "Pierre DuRho^ne & Cie | ~ \\ \r\n é";
        assert_eq!(decode(&encode(v, &s), &s), v);
        assert_eq!(encode("R&D", &s), r"R\T\D");
    }
}
