//! `xml::parse` on arbitrary bytes: never panics, never hangs, and what it accepts
//! respects the limits it was given.
#![no_main]

use allps_ws::wire::xml::{self, Element, XmlLimits};
use libfuzzer_sys::fuzz_target;

const LIMITS: XmlLimits = XmlLimits {
    max_depth: 32,
    max_elements: 10_000,
    max_attributes: 64,
    max_text_bytes: 256 * 1024,
};

fn check(element: &Element, depth: usize, count: &mut usize) {
    *count += 1;
    assert!(depth <= LIMITS.max_depth);
    assert!(element.attrs.len() <= LIMITS.max_attributes);
    assert!(element.text.len() <= LIMITS.max_text_bytes);
    assert!(!element.name.is_empty());
    for child in &element.children {
        check(child, depth + 1, count);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = xml::parse(data, &LIMITS) {
        let mut count = 0;
        check(&root, 1, &mut count);
        assert!(count <= LIMITS.max_elements);
    }
});
