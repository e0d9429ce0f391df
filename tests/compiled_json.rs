//! Compiled JSON: ARM JSON compiled from Bicep points at its source. In `a/` the Bicep source
//! was scanned, so the source is fixed and the JSON is left with a note to rebuild it; in
//! `b/` there is no source, so the JSON is fixed and warns that its source should be too.

use crate::util::{fixtures, run, temp_copy};
use std::fs;

#[test]
fn compiled_json_points_at_its_bicep_source() {
    let fixtures = fixtures("compiled");
    let tmp = temp_copy(&fixtures);
    let out = run(tmp.path(), &["check", "."]).stdout;
    assert!(
        out.contains("a/main.json:21:39: ")
            && out.contains(
                "compiled from main.bicep, which armfix fixes at its source: rebuild this file"
            ),
        "{out}"
    );
    assert!(
        out.contains("b/main.json:21:39: ") && out.contains("fix its source main.bicep too"),
        "{out}"
    );

    let fix = run(tmp.path(), &["fix", "--yes", "."]);
    // The compiled JSON in a/ still fails until it is rebuilt: findings remain.
    assert_eq!(fix.code, 1);
    let read = |p: &str| fs::read_to_string(tmp.path().join(p)).unwrap();
    assert!(read("a/main.bicep").contains("enableSecretRotation: 'true'"));
    assert_eq!(
        read("a/main.json"),
        fs::read_to_string(fixtures.join("a/main.json")).unwrap()
    );
    assert!(read("b/main.json").contains("\"enableSecretRotation\": \"true\""));
}
