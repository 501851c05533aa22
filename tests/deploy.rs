//! Real parties: separate processes over mutual TLS on loopback, checked against the simulator (same
//! accuracy, same bytes per link and phase), against certificates that are not the role's, and against a
//! party that dies mid-run.

use rtas::deploy::tcp::{NetConfig, TcpTransport, listen};
use rtas::deploy::tls::{Identity, make_keys};
use rtas::net::Role;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rtas() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtas"))
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = rtas().args(args).arg("--json").output().expect("the rtas binary runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// A fresh directory only its owner can enter (as deployments require of key and run directories).
fn temp_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    let d = std::env::temp_dir().join(format!("rtas-deploy-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&d).unwrap();
    d
}

/// `{(phase, from, to): bytes}` of a list of links, under the key that holds the bytes.
fn links(v: &serde_json::Value, bytes_key: &str) -> Vec<(String, String, String, u64)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["phase"].as_str().unwrap().to_string(),
                l["from"].as_str().unwrap().to_string(),
                l["to"].as_str().unwrap().to_string(),
                l[bytes_key].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn launched_processes_train_like_the_simulator_and_their_sockets_carry_its_ledger() {
    for (model, protocol, steps, gate) in [
        ("logreg", "rtas", "12", "dcf"),
        ("logreg", "rtas-fast", "12", "dcf"),
        ("logreg", "mpc", "12", "dcf"),
        ("logreg", "mpc", "12", "dpf"),
        ("cnn", "rtas", "4", "dcf"),
        ("cnn", "rtas-fast", "4", "dcf"),
        ("cnn", "mpc", "2", "dcf"),
        ("cnn", "mpc", "2", "dpf"),
    ] {
        let common = [
            "--model",
            model,
            "--protocol",
            protocol,
            "--fss-gate",
            gate,
            "--max-steps",
            steps,
            "--seed",
            "5",
            "--train-size",
            "400",
            "--test-size",
            "120",
            "--infer-batch",
            "60",
        ];
        let mut args = vec!["launch", "--local", "--test"];
        args.extend(common);
        let launched = json(&args);
        let mut args = vec!["simulate"];
        args.extend(common);
        let simulated = json(&args);
        let what = format!("{model} under {protocol} ({gate} gate)");
        let s = &launched["summary"];
        // Same seed: the same accuracy and the same final parameters, to the bit.
        assert_eq!(s["accuracy"], simulated["accuracy"], "{what}");
        assert_eq!(s["max_param_diff_vs_plain"], simulated["max_param_diff_vs_plain"], "{what}");
        assert_eq!(s["loss_curve"], simulated["loss_curve"], "{what}");
        // Bytes counted on the sockets equal the simulator's ledger, per directed link and phase, for a
        // training step and an inference batch; so do rounds.
        for (sock, step) in [("socket_train_step", "train_step"), ("socket_infer_batch", "infer_batch")] {
            let on_sockets = links(&launched[sock], "payload");
            let ledger = links(&simulated[step]["traffic"]["by_link"], "bytes");
            assert!(!ledger.is_empty(), "{what}: empty ledger");
            assert_eq!(on_sockets, ledger, "{what}: {step}");
            assert_eq!(s[step]["rounds"], simulated[step]["rounds"], "{what}: {step} rounds");
        }
        assert_eq!(launched["sockets_equal_ledger"], true, "{what}");
        // Framing and TLS are reported apart, and are there.
        for t in launched["socket_totals"].as_array().unwrap() {
            let (payload, framing, socket) =
                (t["payload"].as_u64().unwrap(), t["framing"].as_u64().unwrap(), t["socket"].as_u64().unwrap());
            assert!(socket >= payload + framing, "{what}: {t}");
            assert!(t["tls_overhead"].as_u64().unwrap() > 0, "{what}: TLS adds bytes: {t}");
        }
        let w = &launched["wall"];
        assert_eq!(w["train_steps"].as_array().unwrap().len(), steps.parse::<usize>().unwrap(), "{what}");
        assert_eq!(w["infer_batches"].as_array().unwrap().len(), 2, "{what}");
        assert!(w["train_step_median"].as_f64().unwrap() > 0.0, "{what}");
    }
}

#[test]
fn a_deployment_draws_its_randomness_from_the_os_and_refuses_a_seed() {
    let out = rtas().args(["launch", "--local", "--model", "logreg", "--seed", "3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--seed is for tests"), "{err}");
    // Without a seed two runs share nothing: different party seeds, the same accuracy within the
    // fixed point's rounding.
    let args = [
        "launch",
        "--local",
        "--model",
        "logreg",
        "--max-steps",
        "10",
        "--train-size",
        "400",
        "--test-size",
        "100",
        "--infer-batch",
        "100",
    ];
    let a = json(&args);
    let b = json(&args);
    assert_eq!(a["test"], false);
    let acc = |v: &serde_json::Value| v["summary"]["accuracy"].as_f64().unwrap();
    assert!(acc(&a) > 0.8 && acc(&b) > 0.8, "{} {}", acc(&a), acc(&b));
    // A party given a test seed without --test refuses it.
    let dir = PathBuf::from(a["dir"].as_str().unwrap());
    let cfg = std::fs::read_to_string(dir.join("parties.toml")).unwrap();
    // The run's files are its owner's alone, and the shared file holds only public facts: the owner's
    // OS-drawn initial-parameter seed is in its own file.
    use std::os::unix::fs::MetadataExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("keys")), 0o700);
    assert!(!dir.join("keys/ca.key").exists(), "no CA key left in a run directory");
    for f in ["p0.json", "p1.json", "owner.json", "p0.err", "p1.out", "owner.own.toml", "keys/p0.key"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    assert!(!cfg.contains("init_seed") && !cfg.contains("data"), "{cfg}");
    assert!(std::fs::read_to_string(dir.join("owner.own.toml")).unwrap().contains("init_seed"));
    let cfg = cfg.replace("[job]\n", "[job]\ntest_seed = 4\n");
    std::fs::write(dir.join("seeded.toml"), cfg).unwrap();
    let out = rtas().args(["party", "--role", "p0", "--config"]).arg(dir.join("seeded.toml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("test_seed is for tests only"));
}

fn connect(id: Identity, listener: std::net::TcpListener, peers: Vec<(Role, String)>, timeout: f64) -> String {
    let cfg = NetConfig { connect_timeout: timeout, ..NetConfig::default() };
    let refused = std::sync::Mutex::new(Vec::<String>::new());
    let r = TcpTransport::connect(&id, listener, &peers, &cfg, &|why| refused.lock().unwrap().push(why.to_string()));
    match r {
        Ok(_) => "connected".into(),
        Err(e) => format!("{e} | refused: {}", refused.lock().unwrap().join("; ")),
    }
}

#[test]
fn a_peer_without_a_valid_certificate_for_its_role_is_refused() {
    let keys = temp_dir("keys");
    make_keys(&keys, &[Role::P0, Role::P1, Role::Owner]).unwrap();
    let other = temp_dir("other-ca");
    make_keys(&other, &[Role::P0]).unwrap();
    let p1 = || Identity::from_dir(Role::P1, &keys).unwrap();

    // The owner's key pair presented by a process claiming to be P0.
    let owner_as_p0 = Identity::load(Role::P0, &keys.join("ca.pem"), &keys.join("owner.pem"), &keys.join("owner.key"));
    assert!(owner_as_p0.unwrap_err().to_string().contains("not valid for P0"), "refused already at start-up");
    // P1 listens; `dialer` dials it as P0. Returns (what P1's start-up said, what the dialer's said).
    let meet = |dialer: Identity, timeout: f64| {
        let (l1, l0) = (listen("127.0.0.1:0").unwrap(), listen("127.0.0.1:0").unwrap());
        let addr = l1.local_addr().unwrap().to_string();
        std::thread::scope(|s| {
            let server = s.spawn(|| connect(p1(), l1, vec![(Role::P0, String::new())], timeout));
            let client = connect(dialer, l0, vec![(Role::P1, addr.clone())], timeout);
            (server.join().unwrap(), client)
        })
    };
    // Forge the identity past that start-up check: the listener must refuse it on its own.
    let forged =
        Identity::load_unchecked(Role::P0, &keys.join("ca.pem"), &keys.join("owner.pem"), &keys.join("owner.key"))
            .unwrap();
    let (server, client) = meet(forged, 3.0);
    assert!(server.contains("P0 did not connect") && server.contains("not valid for P0"), "{server}");
    assert!(client.contains("P1 refused us") && client.contains("not valid for P0"), "{client}");

    // A certificate for P0 from another CA: the TLS handshake fails, the listener waits past it.
    let (server, client) = meet(Identity::from_dir(Role::P0, &other).unwrap(), 3.0);
    assert!(server.contains("refused") && server.contains("TLS handshake failed"), "{server}");
    assert_ne!(client, "connected");

    // The right P0 gets in.
    let (server, client) = meet(Identity::from_dir(Role::P0, &keys).unwrap(), 5.0);
    assert_eq!((server.as_str(), client.as_str()), ("connected", "connected"));
}

fn wait_all(children: &mut [(String, std::process::Child)], limit: Duration) -> Vec<(String, Option<i32>)> {
    let t0 = Instant::now();
    let mut done: Vec<(String, Option<i32>)> = Vec::new();
    while done.len() < children.len() && t0.elapsed() < limit {
        for (name, c) in children.iter_mut() {
            if !done.iter().any(|(n, _)| n == name)
                && let Ok(Some(s)) = c.try_wait()
            {
                done.push((name.clone(), s.code()));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for (name, c) in children.iter_mut() {
        if !done.iter().any(|(n, _)| n == name) {
            let _ = c.kill();
            done.push((name.clone(), None));
        }
    }
    done
}

fn write_config(dir: &Path, model: &str, steps: usize) {
    let port = |_: usize| rtas::deploy::tcp::free_port().unwrap();
    let mut toml = format!(
        "[job]\nmodel = \"{model}\"\nprotocol = \"rtas\"\nepochs = 4\nmax_steps = {steps}\ntrain_rows = 8000\ntest_rows = 100\n\
         infer_batch = 100\norder_seed = 1\n\n[net]\nconnect_timeout = 20.0\n\n[keys]\ndir = \"keys\"\n\n"
    );
    for (i, role) in ["p0", "p1", "dealer", "owner"].iter().enumerate() {
        toml.push_str(&format!("[parties.{role}]\naddress = \"127.0.0.1:{}\"\n", port(i)));
    }
    std::fs::write(dir.join("parties.toml"), toml).unwrap();
}

#[test]
fn when_a_party_dies_mid_step_every_other_party_exits_within_ten_seconds_naming_the_peer_and_the_step() {
    let dir = temp_dir("fault");
    let keys = json(&["keys", "--out", dir.join("keys").to_str().unwrap(), "--parties", "p0,p1,dealer,owner"]);
    assert_eq!(keys.as_array().unwrap().len(), 9, "ca.pem and two files per role; the CA key discarded");
    assert!(!dir.join("keys/ca.key").exists());
    // Up to 1000 CNN steps (tens of seconds): long enough that the kill lands mid-training on any host.
    write_config(&dir, "cnn", 1000);
    let mut children: Vec<(String, std::process::Child)> = ["p0", "p1", "dealer", "owner"]
        .iter()
        .map(|r| {
            let child = rtas()
                .args(["party", "--role", r, "--data", "bundled", "--config"])
                .arg(dir.join("parties.toml"))
                .arg("--out")
                .arg(dir.join(format!("{r}.json")))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (r.to_string(), child)
        })
        .collect();
    // Let the links come up and training start, then kill P1 in the middle of a step.
    std::thread::sleep(Duration::from_millis(2500));
    let (_, p1) = children.iter_mut().find(|(n, _)| n == "p1").unwrap();
    p1.kill().unwrap();
    let killed_at = Instant::now();
    let mut rest: Vec<_> = children.into_iter().filter(|(n, _)| n != "p1").collect();
    let codes = wait_all(&mut rest, Duration::from_secs(10));
    assert!(killed_at.elapsed() < Duration::from_secs(11));
    let mut named_p1 = 0;
    for ((name, code), (_, child)) in codes.iter().zip(rest.iter_mut()) {
        assert_eq!(*code, Some(2), "{name} should exit 2 within 10 s of P1's death (None: still running)");
        let mut err = String::new();
        use std::io::Read;
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        // Every party is on 127.0.0.1: each says so once before it starts (warnings), then one error line.
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("warning: ")).collect();
        assert_eq!(lines.len(), 1, "{name}: one line expected: {err}");
        assert!(lines[0].starts_with("error: lost "), "{name}: {err}");
        assert!(lines[0].contains(" at 't") || lines[0].contains(" at 'i"), "{name} names the step: {err}");
        named_p1 += usize::from(lines[0].starts_with("error: lost P1"));
        assert!(!dir.join(format!("{name}.json")).exists(), "{name} wrote a result as if complete");
    }
    assert!(named_p1 >= 1, "someone names P1");
}

fn same_payload(a: &rtas::net::Payload, b: &rtas::net::Payload) -> bool {
    use rtas::net::Payload;
    match (a, b) {
        (Payload::Ring(x), Payload::Ring(y)) => x == y,
        (Payload::Float(x), Payload::Float(y)) => {
            x.shape() == y.shape() && x.iter().zip(y.iter()).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (Payload::Seed(x), Payload::Seed(y)) => x == y,
        _ => false,
    }
}

#[test]
fn every_launched_partys_view_is_the_one_the_simulator_records() {
    use rtas::experiment::simulate::{ProtocolChoice, SimulateConfig, record_with};
    use rtas::models::secure::Protocol;
    use rtas::models::{ModelKind, Prepared};
    let (train, test) = rtas::data::mnist::bundled_split().unwrap();
    let (train, test) = (Prepared::new(&train.slice(0, 400)).unwrap(), Prepared::new(&test.slice(0, 100)).unwrap());
    for protocol in [Protocol::Rtas, Protocol::RtasFast] {
        let mut cfg = SimulateConfig::paper(ModelKind::LogReg, ProtocolChoice::Secure(protocol));
        cfg.max_steps = Some(4);
        cfg.seed = 7;
        cfg.infer_batch = 50;
        let simulated = record_with(cfg.clone(), (&train, &test), &indicatif::ProgressBar::hidden()).unwrap();
        let o = rtas::deploy::launch::LaunchOptions {
            sim: cfg,
            data: "bundled".into(),
            rows: (400, 100),
            exe: PathBuf::from(env!("CARGO_BIN_EXE_rtas")),
            test: true,
            net: NetConfig::default(),
            dir: Some(temp_dir(&format!("views-{}", protocol.name()))),
            threads: None,
            timeout: 300.0,
            record_views: true,
            shape: None,
        };
        let (_, views) = rtas::deploy::launch::launch_recorded(&o).unwrap();
        assert_eq!(views.len(), protocol.roles().len());
        assert!(views.values().map(|v| v.received.len()).sum::<usize>() > 20, "views were recorded");
        for (role, real) in &views {
            let sim = simulated.view(*role).unwrap();
            let what = format!("{} view of {role}", protocol.name());
            assert_eq!(real.received.len(), sim.received.len(), "{what}");
            for (a, b) in real.received.iter().zip(&sim.received) {
                assert_eq!((a.from, &a.label, a.kind), (b.from, &b.label, b.kind), "{what}");
                assert!(same_payload(&a.payload, &b.payload), "{what}: {} differs", a.label);
            }
            assert_eq!(real.seeds, sim.seeds, "{what}: seeds");
            assert_eq!(real.inputs.len(), sim.inputs.len(), "{what}: inputs");
            for ((na, pa), (nb, pb)) in real.inputs.iter().zip(&sim.inputs) {
                assert_eq!(na, nb, "{what}");
                assert!(same_payload(pa, pb), "{what}: input {na} differs");
            }
        }
    }
}

// ---- Hostile networks and careless hosts (issue 26) ----

/// A parties.toml for `logreg` under rtas on free loopback ports, with `net` lines added to `[net]`.
fn hostile_config(dir: &Path, steps: usize, net: &str) -> std::collections::BTreeMap<String, String> {
    let mut addrs = std::collections::BTreeMap::new();
    let mut toml = format!(
        "[job]\nmodel = \"logreg\"\nprotocol = \"rtas\"\nmax_steps = {steps}\ntrain_rows = 8000\ntest_rows = 2000\n\
         infer_batch = 1000\norder_seed = 1\n\n[net]\nconnect_timeout = 20.0\n{net}\n\n[keys]\ndir = \"keys\"\n\n"
    );
    for role in ["p0", "p1", "dealer", "owner"] {
        let port = rtas::deploy::tcp::free_port().unwrap();
        let addr = format!("127.0.0.1:{port}");
        toml.push_str(&format!("[parties.{role}]\naddress = \"{addr}\"\n"));
        addrs.insert(role.to_string(), addr);
    }
    std::fs::write(dir.join("parties.toml"), toml).unwrap();
    addrs
}

fn start_party(dir: &Path, role: &str) -> std::process::Child {
    rtas()
        .args(["party", "--role", role, "--data", "bundled", "--config"])
        .arg(dir.join("parties.toml"))
        .arg("--out")
        .arg(dir.join(format!("{role}.json")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_listening(addr: &str) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(20), "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Connects to `addr`, sends a TLS record header and then one byte a second until `stop` (a client that
/// would hold a handshake for ever if only each read had a timeout).
fn drip(addr: &str, stop: &std::sync::atomic::AtomicBool) {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(addr) else { return };
    if s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).is_err() {
        return;
    }
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if s.write_all(&[0x01]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
}

fn stderr_of(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    err
}

#[test]
fn slow_drips_and_a_connection_flood_during_start_up_do_not_stop_an_honest_run() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = temp_dir("drip");
    make_keys(&dir.join("keys"), &[Role::P0, Role::P1, Role::Dealer, Role::Owner]).unwrap();
    let addrs = hostile_config(&dir, 3, "");
    let p1_addr = addrs["p1"].clone();
    let p1 = start_party(&dir, "p1");
    wait_listening(&p1_addr);
    let stop = AtomicBool::new(false);
    let garbage = |i: u32| {
        use std::io::Write;
        std::net::TcpStream::connect(&p1_addr).map(|mut c| c.write_all(&i.to_le_bytes().repeat(4))).is_ok()
    };
    let t0 = Instant::now();
    std::thread::scope(|s| {
        // Twelve drippers (more than the pending handshakes a listener runs) and twenty silent connections
        // held open.
        for _ in 0..12 {
            s.spawn(|| drip(&p1_addr, &stop));
        }
        let silent: Vec<_> = (0..20).filter_map(|_| std::net::TcpStream::connect(&p1_addr).ok()).collect();
        // A thousand connections that send garbage and leave before the honest parties start, and more
        // while they connect.
        let flooded = (0..1000u32).filter(|&i| garbage(i)).count();
        assert!(flooded > 900, "the flood reached P1 ({flooded} connections)");
        let (stop_ref, garbage_ref) = (&stop, &garbage);
        let during = s.spawn(move || {
            (0u32..).take_while(|_| !stop_ref.load(Ordering::Relaxed)).filter(|&i| garbage_ref(i)).count()
        });
        let mut rest: Vec<(String, std::process::Child)> =
            ["p0", "dealer", "owner"].iter().map(|r| (r.to_string(), start_party(&dir, r))).collect();
        rest.push(("p1".into(), p1));
        let codes = wait_all(&mut rest, Duration::from_secs(60));
        let took = t0.elapsed();
        stop.store(true, Ordering::Relaxed);
        drop(silent);
        let flooded = flooded + during.join().unwrap();
        let p1_err = stderr_of(&mut rest.last_mut().unwrap().1);
        for (name, code) in &codes {
            assert_eq!(*code, Some(0), "{name} did not complete under the drips and the flood: {p1_err}");
        }
        assert!(took < Duration::from_secs(30), "the honest run took {took:?}");
        let refusals: Vec<&str> = p1_err.lines().filter(|l| l.starts_with("refused a connection")).collect();
        assert!(refusals.len() <= 6, "P1's log is bounded: {} lines\n{p1_err}", refusals.len());
        assert!(p1_err.contains("more connection(s) refused"), "the rest are counted: {p1_err}");
        eprintln!("honest run under 12 drips, 20 silent and {flooded} garbage connections: {took:?}\n{p1_err}");
    });
}

#[test]
fn a_start_up_held_by_drips_alone_fails_within_connect_timeout_plus_a_second_with_a_bounded_report() {
    use std::sync::atomic::AtomicBool;
    let keys = temp_dir("drip-deadline").join("k");
    make_keys(&keys, &[Role::P0, Role::P1]).unwrap();
    let listener = listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let stop = AtomicBool::new(false);
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| drip(&addr, &stop));
        }
        let cfg = NetConfig { connect_timeout: 2.0, ..NetConfig::default() };
        let t0 = Instant::now();
        let id = Identity::from_dir(Role::P1, &keys).unwrap();
        let r = TcpTransport::connect(&id, listener, &[(Role::P0, String::new())], &cfg, &|w| {
            lines.lock().unwrap().push(w.to_string())
        });
        let took = t0.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let err = r.err().expect("no honest peer came").to_string();
        assert!(took < Duration::from_secs(3), "failed after {took:?}, connect_timeout 2 s");
        assert!(err.contains("P0 did not connect within the connect timeout"), "{err}");
        assert!(err.len() < 2000, "the error is bounded: {err}");
        assert!(lines.lock().unwrap().len() <= 6, "{:?}", lines.lock().unwrap());
    });
}

/// Resident memory of a process, bytes.
fn rss(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .map_or(0, |k| k * 1024)
}

#[test]
fn an_authenticated_peer_flooding_unexpected_frames_is_held_to_the_inbox_budget() {
    use rtas::net::{Message, Op, Payload, Phase, Stage, ViewKind};
    let dir = temp_dir("flood");
    let keys = dir.join("keys");
    make_keys(&keys, &[Role::P0, Role::P1, Role::Dealer, Role::Owner]).unwrap();
    const BUDGET: u64 = 16 << 20;
    let addrs = hostile_config(&dir, 2, &format!("recv_timeout = 20.0\ninbox_bytes = {BUDGET}"));
    let mut p1 = start_party(&dir, "p1");
    let pid = p1.id();
    // The test holds P0's, the dealer's and the owner's keys: P1's links all come up, then P1 waits for the
    // dealer's seed while "P0" floods it with frames for a later step.
    let up = |role: Role, net: NetConfig| {
        let id = Identity::from_dir(role, &keys).unwrap();
        let name = rtas::deploy::tls::role_name(role);
        TcpTransport::connect(&id, listen(&addrs[name]).unwrap(), &[(Role::P1, addrs["p1"].clone())], &net, &|_| {})
            .unwrap()
    };
    let (p0, dealer, owner) = std::thread::scope(|s| {
        let d = s.spawn(|| up(Role::Dealer, NetConfig::default()));
        let o = s.spawn(|| up(Role::Owner, NetConfig::default()));
        let p0 = up(Role::P0, NetConfig { recv_timeout: 5.0, outbox_bytes: 4 << 20, ..NetConfig::default() });
        (p0, d.join().unwrap(), o.join().unwrap())
    });
    std::thread::sleep(Duration::from_millis(300));
    let base = rss(pid);
    let mut p0 = p0;
    use rtas::net::Transport;
    let frame = 1usize << 20;
    let (sent, peak) = std::thread::scope(|s| {
        let watch = s.spawn(|| {
            let mut peak = 0;
            for _ in 0..60 {
                peak = peak.max(rss(pid));
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        });
        let t0 = Instant::now();
        let mut sent = 0u64;
        while t0.elapsed() < Duration::from_secs(5) && sent < 400 {
            let msg = Message {
                label: Stage::Train(7).at("flood").op(Op::Open),
                kind: ViewKind::MaskedOpening,
                phase: Phase::Online,
                payload: Payload::Ring(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[frame / 8]), 7u64)),
            };
            if p0.send(Role::P1, msg).is_err() {
                break;
            }
            sent += 1;
        }
        (sent, watch.join().unwrap())
    });
    let alive = p1.try_wait().unwrap().is_none();
    let _ = p1.kill();
    let _ = p1.wait();
    let err = stderr_of(&mut p1);
    std::thread::scope(|s| {
        s.spawn(move || drop(p0));
        s.spawn(move || drop(dealer));
        s.spawn(move || drop(owner));
    });
    let grew = peak.saturating_sub(base);
    eprintln!(
        "P0 handed {sent} frames of 1 MiB to its link in 5 s; P1 resident {:.1} MB -> peak {:.1} MB (+{:.1} MB), budget {:.1} MB",
        base as f64 / 1e6,
        peak as f64 / 1e6,
        grew as f64 / 1e6,
        BUDGET as f64 / 1e6
    );
    assert!(alive, "P1 holds out (it waits for the dealer): {err}");
    assert!(base > 0 && peak > 0, "resident memory readable");
    assert!(grew <= BUDGET + 64_000_000, "P1 grew by {grew} bytes, above its budget plus 64 MB");
    // Back-pressure: what left P0 is bounded by P1's budget, P0's own outbox and the sockets' buffers.
    assert!(sent * frame as u64 <= BUDGET + (4 << 20) + (48 << 20), "{sent} MiB got through");
}

/// P0 sends frames of `sizes` elements to a P1 holding P0 to `limits`; P1 receives them in order. Returns
/// how many P1 took and the error that stopped it.
fn against_limits(name: &str, limits: rtas::deploy::tcp::PeerLimits, sizes: &[usize]) -> (usize, String) {
    use rtas::net::{Message, Op, Payload, Phase, Stage, Transport, ViewKind};
    let keys = temp_dir(name).join("k");
    make_keys(&keys, &[Role::P0, Role::P1]).unwrap();
    let (l0, l1) = (listen("127.0.0.1:0").unwrap(), listen("127.0.0.1:0").unwrap());
    let addr = l1.local_addr().unwrap().to_string();
    let cfg = NetConfig { recv_timeout: 5.0, linger: 0.5, ..NetConfig::default() };
    let limits = [(Role::P0, limits)].into();
    let msg = |i: usize, n: usize| Message {
        label: Stage::Train(i as u32).at("x").op(Op::Open),
        kind: ViewKind::MaskedOpening,
        phase: Phase::Online,
        payload: Payload::Ring(ndarray::ArrayD::zeros(ndarray::IxDyn(&[n]))),
    };
    let (mut a, mut b) = std::thread::scope(|s| {
        let b = s.spawn(|| {
            let id = Identity::from_dir(Role::P1, &keys).unwrap();
            TcpTransport::connect_limited(&id, l1, &[(Role::P0, String::new())], &cfg, &limits, &|_| {}).unwrap()
        });
        let id = Identity::from_dir(Role::P0, &keys).unwrap();
        let a = TcpTransport::connect(&id, l0, &[(Role::P1, addr.clone())], &cfg, &|_| {}).unwrap();
        (a, b.join().unwrap())
    });
    let mut took = 0;
    let mut err = String::new();
    for (i, &n) in sizes.iter().enumerate() {
        a.send(Role::P1, msg(i, n)).unwrap();
        match b.recv(Role::P0, &msg(i, n).label) {
            Ok(m) => {
                assert_eq!(m.payload.len(), n);
                took += 1;
            }
            Err(e) => {
                err = e.to_string();
                break;
            }
        }
    }
    std::thread::scope(|s| {
        s.spawn(move || drop(a));
        drop(b);
    });
    (took, err)
}

#[test]
fn a_peer_sending_more_than_its_job_a_larger_frame_or_more_bytes_is_refused_naming_it() {
    use rtas::deploy::tcp::PeerLimits;
    let limits = PeerLimits { max_frame: 800, inbox: 4096, outbox: 4096, total: None };
    let (took, err) = against_limits("big-frame", limits, &[100, 101]);
    assert_eq!(took, 1, "800 bytes pass: {err}");
    assert!(err.contains("P0") && err.contains("808") && err.contains("800"), "{err}");
    let (took, err) = against_limits("too-much", PeerLimits { total: Some(1200), ..limits }, &[100, 50, 1]);
    assert_eq!(took, 2, "1200 bytes pass: {err}");
    assert!(err.contains("P0 sent 1208 payload bytes, more than the 1200 its job sends this way"), "{err}");
}
