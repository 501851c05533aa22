//! The processes of a local launch: a fresh directory with keys and parties.toml, every role started as its own
//! process (in network namespaces when links are shaped), their results and socket counters collected.

use super::*;

pub(super) fn fresh_dir() -> Result<PathBuf> {
    let d =
        std::env::temp_dir().join(format!("rtas-launch-{}-{:08x}", std::process::id(), crate::rng::os_u64()? as u32));
    crate::deploy::files::private_dir(&d)?;
    Ok(d)
}

/// Writes keys (the CA key discarded), `parties.toml` (public facts) and each party's own file (mode 0600)
/// for a local run into `dir`; returns the configuration and the own files.
pub(super) fn prepare(
    o: &LaunchOptions,
    protocol: Protocol,
    dir: &Path,
    shaped: bool,
) -> Result<(Config, BTreeMap<Role, Own>)> {
    let roles = protocol.roles();
    make_keys(&dir.join("keys"), &roles)?;
    let (lr, frac_bits) = match o.sim.sharing {
        crate::experiment::op::Sharing::Ring { frac_bits } => (o.sim.lr, frac_bits),
        crate::experiment::op::Sharing::Float => return Err(invalid("launch runs ring sharing only")),
    };
    let init_seed = if o.test { None } else { Some(crate::rng::os_u64()?) };
    let mut parties = BTreeMap::new();
    let mut owns = BTreeMap::new();
    for &r in &roles {
        let address = if shaped {
            format!("{}:7000", crate::deploy::shaped::Mesh::address(r))
        } else {
            format!("127.0.0.1:{}", crate::deploy::tcp::free_port()?)
        };
        parties.insert(role_name(r).to_string(), PartyEntry::new(address, None));
        let holds = matches!(r, Role::Owner | Role::ThirdParty);
        let own = Own {
            data: (r == Role::Owner).then(|| o.data.clone()),
            labels: (r == Role::ThirdParty).then(|| o.data.clone()),
            init_seed: if holds { init_seed } else { None },
            threads: o.threads,
            base: dir.to_path_buf(),
        };
        own.write(&own_path(dir, r))?;
        owns.insert(r, own);
    }
    let cfg = Config {
        job: Job {
            model: match o.sim.model {
                ModelKind::File(net) => net
                    .source()
                    .ok_or_else(|| invalid("a model built in memory cannot be launched: write it to a model file"))?
                    .display()
                    .to_string(),
                m => m.name().to_string(),
            },
            protocol: protocol.name().to_string(),
            epochs: o.sim.epochs,
            batch: o.sim.batch,
            lr: Some(lr),
            infer_batch: o.sim.infer_batch,
            frac_bits,
            reuse_masks: o.sim.reuse_masks,
            fss_gate: o.sim.fss_gate,
            value_bits: o.sim.value_bits,
            max_steps: o.sim.max_steps,
            train_rows: o.rows.0,
            test_rows: o.rows.1,
            order_seed: o.sim.seed,
            test_seed: o.test.then_some(o.sim.seed),
        },
        net: o.net.clone(),
        parties,
        keys: Keys { dir: PathBuf::from("keys") },
        base: dir.to_path_buf(),
    };
    let path = dir.join("parties.toml");
    cfg.write(&path)?;
    Ok((Config::read(&path)?, owns))
}

/// Where a local launch keeps `role`'s own file.
pub(super) fn own_path(dir: &Path, role: Role) -> PathBuf {
    dir.join(format!("{}.own.toml", role_name(role)))
}

pub(super) fn last_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string))
        .unwrap_or_else(|| "(no output)".into())
}

/// Starts every role, waits for all, and returns their results; on failure, the root cause: the first
/// party whose error is not the loss of a peer.
pub(super) fn run_parties(
    o: &LaunchOptions,
    cfg: &Config,
    dir: &Path,
    mesh: Option<&crate::deploy::shaped::Mesh>,
) -> Result<BTreeMap<Role, PartyResult>> {
    let roles = cfg.protocol()?.roles();
    let deadline = Duration::try_from_secs_f64(o.timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .and_then(|d| Instant::now().checked_add(d))
        .ok_or_else(|| {
            invalid(format!("the launch timeout must be a positive number of seconds, got {}", o.timeout))
        })?;
    let mut children: Vec<(Role, Child)> = Vec::new();
    for &r in &roles {
        let name = role_name(r);
        let log = |ext: &str| crate::deploy::files::private_file(&dir.join(format!("{name}.{ext}")));
        let (out, err) = (log("out")?, log("err")?);
        let mut cmd = match mesh {
            Some(m) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &m.namespace(r)]).arg(&o.exe);
                c
            }
            None => Command::new(&o.exe),
        };
        cmd.arg("party").args(["--role", name, "--config"]).arg(dir.join("parties.toml"));
        cmd.arg("--out").arg(dir.join(format!("{name}.json")));
        cmd.arg("--own").arg(own_path(dir, r));
        if o.test {
            cmd.arg("--test");
        }
        if o.record_views {
            cmd.arg("--record-view");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Error::Io { path: o.exe.clone(), source: e })?;
        children.push((r, child));
    }
    let mut status: BTreeMap<Role, i32> = BTreeMap::new();
    while status.len() < children.len() {
        for (r, c) in children.iter_mut() {
            if !status.contains_key(r)
                && let Ok(Some(s)) = c.try_wait()
            {
                status.insert(*r, s.code().unwrap_or(-1));
            }
        }
        if Instant::now() > deadline {
            for (_, c) in children.iter_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(invalid(format!(
                "the parties did not finish within {} s (logs in {})",
                o.timeout,
                dir.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let failed: Vec<(Role, String)> = status
        .iter()
        .filter(|(_, c)| **c != 0)
        .map(|(r, _)| (*r, last_line(&dir.join(format!("{}.err", role_name(*r))))))
        .collect();
    if !failed.is_empty() {
        let root = failed.iter().find(|(_, l)| !l.contains("lost ")).unwrap_or(&failed[0]);
        return Err(Error::Protocol {
            label: None,
            reason: format!(
                "party {} failed: {} (logs in {})",
                root.0,
                root.1.trim_start_matches("error: "),
                dir.display()
            ),
        });
    }
    roles.iter().map(|&r| read_result(&dir.join(format!("{}.json", role_name(r)))).map(|x| (r, x))).collect()
}

pub(super) fn stage_wall(stages: &[(Stage, f64)]) -> BTreeMap<Stage, f64> {
    stages.windows(2).map(|w| (w[0].0, w[1].1 - w[0].1)).collect()
}

pub(super) fn socket_links(results: &BTreeMap<Role, PartyResult>, keep: impl Fn(Stage) -> bool) -> Vec<SocketLink> {
    let mut m: BTreeMap<(Phase, Role, Role), SocketLink> = BTreeMap::new();
    for (from, r) in results {
        for (to, c) in &r.net.links {
            for s in c.sent.iter().filter(|s| keep(s.stage)) {
                let e = m.entry((s.phase, *from, *to)).or_insert(SocketLink {
                    phase: s.phase,
                    from: *from,
                    to: *to,
                    frames: 0,
                    payload: 0,
                    framing: 0,
                });
                e.frames += s.frames;
                e.payload += s.payload;
                e.framing += s.framing;
            }
        }
    }
    m.into_values().filter(|l| l.frames > 0).collect()
}

/// The median round trip between P0's and P1's namespaces through the real transport.
pub(super) fn probe_rtt(o: &LaunchOptions, mesh: &crate::deploy::shaped::Mesh, dir: &Path) -> Result<f64> {
    let spawn = |r: Role| {
        Command::new("ip")
            .args(["netns", "exec", &mesh.namespace(r)])
            .arg(&o.exe)
            .args(["--json", "probe", "--role", role_name(r), "--config"])
            .arg(dir.join("parties.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Io { path: o.exe.clone(), source: e })
    };
    let answer = spawn(Role::P1)?;
    let ask = spawn(Role::P0)?;
    let (a, b) = (ask.wait_with_output(), answer.wait_with_output());
    let out = a.map_err(|e| Error::Io { path: o.exe.clone(), source: e })?;
    let _ = b;
    if !out.status.success() {
        return Err(invalid(format!("the latency probe failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| invalid(format!("probe: {e}")))?;
    v["rtt_median"].as_f64().ok_or_else(|| invalid("the probe measured nothing"))
}
