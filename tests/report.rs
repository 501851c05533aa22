//! `rtas report` on its tiny configuration writes every chart as a valid PNG and SVG of real size, and a
//! Markdown report whose links resolve.

use std::process::Command;

#[test]
fn report_writes_every_chart_and_a_report_whose_links_resolve() {
    let out = std::env::temp_dir().join(format!("rtas-report-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_rtas")).args(["report", "--tiny", "--out"]).arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let charts =
        ["eps_vs_delta", "permutation", "traffic", "network", "training", "reconstructions", "knowledge", "plan-cnn"];
    for c in charts {
        let png = std::fs::read(out.join(format!("{c}.png"))).unwrap();
        assert!(png.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]), "{c}.png is a PNG");
        assert!(png.len() > 20_000, "{c}.png has content ({} bytes)", png.len());
        let svg = std::fs::read_to_string(out.join(format!("{c}.svg"))).unwrap();
        assert!(svg.trim_start().starts_with("<svg") || svg.trim_start().starts_with("<?xml"), "{c}.svg is SVG");
        assert!(svg.contains("</svg>") && svg.len() > 10_000, "{c}.svg has content");
        assert!(svg.contains("<text"), "{c}.svg has text");
    }
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(md.contains("## The claims audit"));
    let verdicts = [
        "**does not hold**",
        "**holds only under stated assumptions**",
        "**holds (against the attacks tried)**",
        "**no bound stated**",
    ];
    let rows = md.lines().filter(|l| l.starts_with("| ") && verdicts.iter().any(|v| l.contains(v))).count();
    assert_eq!(rows, 22, "one summary row with a computed verdict per claim");
    assert!(md.contains("Holm-Bonferroni"), "the rule and its correction are stated");
    assert!(md.contains("> Random permutation on an vector of length n"), "each claim quotes the paper");
    let mut links = 0;
    for part in md.split("](").skip(1) {
        let target = part.split(')').next().unwrap();
        assert!(out.join(target).is_file(), "link {target} resolves");
        links += 1;
    }
    assert!(links >= 2 * charts.len(), "every chart is linked as PNG and SVG ({links} links)");
    let _ = std::fs::remove_dir_all(&out);
}
