//! The README's keys table is the keymap's own: generated from the
//! bindings, compared here, so the two cannot drift apart.

#[test]
fn readme_keys_table_is_generated_from_the_keymap() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = "<!-- keys:start (generated from src/app/keymap.rs; tests/pure/keys_doc.rs checks it) -->\n";
    let end = "<!-- keys:end -->";
    let from = readme.find(start).expect("README has the keys markers") + start.len();
    let to = readme[from..].find(end).expect("README has the end marker") + from;
    let table = cutover::app::keymap::markdown_table();
    assert_eq!(
        &readme[from..to],
        table,
        "the README's keys table differs from the keymap; paste this between the markers:\n{table}"
    );
}
