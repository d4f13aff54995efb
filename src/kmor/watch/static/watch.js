// kmor watch: the page. Polls the read-only JSON endpoints and redraws in place (no reloads).
// Plots with uPlot (shipped in /static, MIT licence in uPlot.LICENSE).
"use strict";

const POLL_LIVE_MS = 1000;      // a live run: status + current scan every second
const POLL_IDLE_MS = 10000;     // a finished run or the list of runs
const LIVE_STATES = ["running", "paused"];
const COLORS = { down: "#1f6fd1", up: "#e8731a", fit: "#111", repeat: "#9aa4b8", average: "#c8332b",
                 error: "#1f6fd1", control: "#2a9d4a", data: "#1f6fd1" };

const $ = (id) => document.getElementById(id);
let timer = null, route = null, scanPlot = null, scanPlotKey = "", lockPlot = null;
const smallCache = new Map();   // "run/file" -> data of a closed scan (never changes)

function text(id, value) { const el = $(id); if (el) el.textContent = value == null ? "" : String(value); }

function fmt(x, digits = 4) {
  if (x == null || !isFinite(x)) return "-";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}
function pm(v, e, units) { return `${fmt(v, 6)}${e != null ? " ± " + fmt(e, 2) : ""} ${units || ""}`.trim(); }
function duration(s) {
  if (s == null) return "-";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : m ? `${m} min ${String(r).padStart(2, "0")} s` : `${r} s`;
}
function when(unix) { return unix ? new Date(unix * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "-"; }

async function getJSON(url) {
  const reply = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  if (!reply.ok) throw new Error(`${url}: ${reply.status} ${(await reply.json().catch(() => ({}))).error || ""}`);
  return reply.json();
}

function showError(err) {
  const el = $("error");
  if (err) { el.hidden = false; el.textContent = String(err.message || err); } else el.hidden = true;
  text("conn", err ? "connection lost, retrying" : "");
}

// ---------------------------------------------------------------- routing
function navigate() {
  clearTimeout(timer);
  const m = location.hash.match(/^#\/run\/([A-Za-z0-9._-]+)/);
  route = m ? { run: m[1] } : { run: null };
  $("runs-view").hidden = !!route.run;
  $("run-view").hidden = !route.run;
  scanPlotKey = "";
  tick();
}

async function tick() {
  const here = route;
  let live = false;
  try {
    if (here.run) live = await refreshRun(here.run);
    else await refreshRuns();
    showError(null);
  } catch (err) { showError(err); }
  if (here === route) timer = setTimeout(tick, live ? POLL_LIVE_MS : POLL_IDLE_MS);
}

// ---------------------------------------------------------------- list of runs
async function refreshRuns() {
  const data = await getJSON("/api/runs");
  text("root", data.root);
  if (data.default_run && !sessionStorage.getItem("kmor-opened")) {
    sessionStorage.setItem("kmor-opened", "1");
    location.hash = `#/run/${data.default_run}`;
    return;
  }
  const body = $("runs").tBodies[0];
  body.replaceChildren(...data.runs.map((r) => {
    const tr = document.createElement("tr");
    const a = document.createElement("a");
    a.href = `#/run/${r.id}`; a.textContent = r.id;
    const cells = [a, badge(r.state), r.n_scans, r.report ? "yes" : "", when(r.started_unix_s)];
    for (const c of cells) { const td = document.createElement("td"); td.append(c instanceof Node ? c : String(c)); tr.append(td); }
    return tr;
  }));
}

function badge(state) {
  const span = document.createElement("span");
  span.className = `badge ${state}`; span.textContent = state;
  return span;
}

// ---------------------------------------------------------------- one run
async function refreshRun(id) {
  const run = await getJSON(`/api/runs/${id}`);
  const st = run.status || {};
  const live = LIVE_STATES.includes(st.state);
  showRun(run, st);
  if (live || !scanPlotKey) await refreshLive(id);
  await refreshSmallPlots(id, run.scans, live);
  showReport(run.report);
  return live;
}

function showRun(run, st) {
  text("root", "");
  text("run-name", st.name || run.id);
  const state = $("state");
  state.className = `badge ${st.state}`; state.textContent = st.state === "complete" ? "finished" : st.state;
  text("reason", st.reason || "");
  $("resume").hidden = !st.resume_command || st.state === "complete";
  text("resume-command", st.resume_command || "");
  text("run-id", run.id);
  text("batch-file", run.batch_file || "-");
  text("config-source", run.config_source || "-");
  text("started", when(st.started_unix_s));
  const step = st.step != null ? `step ${st.step + 1} of ${st.n_steps}: ${st.label || ""}` : "-";
  text("step", step + (st.job != null ? `  (job ${st.job + 1} of ${st.n_jobs})` : ""));
  const job = run.current_job;
  text("params", job ? `${job.kind}: ` + Object.entries(job.params || {}).map(([k, v]) => `${k}=${Array.isArray(v) ? "[" + v.join(", ") + "]" : v}`).join(", ") : "-");
  $("progress").value = st.progress || 0;
  text("progress-text", st.point != null ? `point ${st.point} of ${st.points_total || "?"} (${Math.round(100 * (st.progress || 0))} %)` : "");
  text("remaining", st.state === "complete" ? "done" : (st.remaining_text || (st.remaining_lab_s != null ? `left: ${duration(st.remaining_lab_s)} lab time` : "-")));
  showLock(st.lock || {});
  const ov = st.overloads || {};
  text("overloads", ov.count ? `${ov.count} (last: ${ov.last})` : "none");
  const ref = st.reference || {};
  const refState = { ok: "present", missing: "MISSING", unknown: "not checked yet (no rf scan)" }[ref.state] || ref.state;
  text("reference", `${refState}${ref.counter_hz ? `, last counter reading ${fmt(ref.counter_hz, 10)} Hz` : ""}`);
  const susp = st.suspensions || [];
  text("n-suspensions", `(${susp.length})`);
  $("suspensions").tBodies[0].replaceChildren(...susp.slice().reverse().map((s) => row([
    s.time_s != null ? duration(s.time_s) : "-", s.scan || "", s.reason, s.duration_s != null ? duration(s.duration_s) : "ongoing"])));
  const log = $("log");
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = (run.log_tail || []).join("\n");
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.append(td); }
  return tr;
}

// ---------------------------------------------------------------- current scan
function joinXY(seriesList) {
  // uPlot wants one sorted x array; each series gets its values at its own x, null elsewhere.
  const xs = [...new Set(seriesList.flatMap((s) => s.x))].filter((x) => x != null).sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = seriesList.map((s) => {
    const y = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => { if (x != null && s.y[i] != null) y[index.get(x)] = s.y[i]; });
    return y;
  });
  return [xs, ...ys];
}

function scanSeries(kind, cols, fit) {
  const out = [];
  if (kind === "bscan") {
    const x = cols.field_uG && cols.field_uG.some((v) => v != null) ? cols.field_uG : (cols.field_set_uG || []);
    const y = cols.x_V || [], sweep = cols.sweep || [];
    for (const dir of ["down", "up"]) {
      const keep = x.map((_, i) => (sweep[i] || "").trim() === dir);
      out.push({ label: `${dir} sweep`, color: COLORS[dir], x: x.filter((_, i) => keep[i]), y: y.filter((_, i) => keep[i]), points: true });
    }
    if (!sweep.length) out.push({ label: "rotation", color: COLORS.data, x, y, points: true });
  } else if (kind === "rfscan") {
    const f = cols.freq_set_hz || [], t = cols.transmission_V || [], rep = cols.repeat || [];
    const last = rep.length ? Math.max(...rep.filter((r) => r != null)) : 0;
    const cur = f.map((_, i) => rep[i] === last);
    out.push({ label: `repeat ${last + 1}`, color: COLORS.repeat, x: f.filter((_, i) => cur[i]), y: t.filter((_, i) => cur[i]), points: true });
    const sums = new Map();
    f.forEach((fi, i) => { if (fi != null && t[i] != null) { const s = sums.get(fi) || [0, 0]; s[0] += t[i]; s[1] += 1; sums.set(fi, s); } });
    const fx = [...sums.keys()];
    out.push({ label: "running average", color: COLORS.average, x: fx, y: fx.map((k) => sums.get(k)[0] / sums.get(k)[1]), points: true, line: true });
  } else {
    const names = Object.keys(cols).filter((k) => (cols[k] || []).some((v) => typeof v === "number"));
    if (names.length >= 2) out.push({ label: names[1], color: COLORS.data, x: cols[names[0]], y: cols[names[1]], points: true });
  }
  if (fit && fit.ok) out.push({ label: "fit", color: COLORS.fit, x: fit.curve_x, y: fit.curve_y, points: false, line: true });
  return out;
}

function axisLabels(kind) {
  if (kind === "bscan") return ["field (uG)", "rotation signal X (V)"];
  if (kind === "rfscan") return ["rf frequency (Hz)", "transmission (V)"];
  return ["", ""];
}

// Tick labels that survive small values (uPlot's default rounds 1e-4 V to "0").
function ticks(u, splits) {
  const big = Math.max(...splits.map(Math.abs));
  if (big === 0 || (big >= 1e-2 && big < 1e6)) return splits.map((v) => Number(v.toPrecision(6)).toString());
  const e = Math.floor(Math.log10(big)), scale = 10 ** e;
  let d = 0;   // fewest decimals that show every tick exactly (1e-6 of the mantissa)
  while (d < 4 && splits.some((v) => { const m = (v / scale) * 10 ** d; return Math.abs(Math.round(m) - m) > 1e-6; })) d++;
  return splits.map((v) => (v === 0 ? "0" : `${(v / scale).toFixed(d)}e${e}`));
}

function makePlot(el, series, kind, width, height, small) {
  const [xl, yl] = axisLabels(kind);
  const opts = {
    width, height, legend: { show: !small }, cursor: { show: !small },
    scales: { x: { time: false } },
    axes: [{ label: small ? "" : xl, size: small ? 30 : 45, values: ticks },
           { label: small ? "" : yl, size: small ? 55 : 75, values: ticks }],
    series: [{ label: xl }, ...series.map((s) => ({
      label: s.label, stroke: s.color, width: s.line ? 1.5 : 0, spanGaps: true,
      paths: s.line ? undefined : () => null,
      points: { show: s.points, size: small ? 3 : 5, stroke: s.color, fill: s.color },
    }))],
  };
  el.replaceChildren();
  return new uPlot(opts, joinXY(series), el);
}

async function refreshLive(id) {
  const data = await getJSON(`/api/runs/${id}/live`);
  const scan = data.scan;
  if (!scan) { text("scan-name", "(none yet)"); return; }
  const series = scanSeries(scan.kind, scan.columns || {}, data.fit);
  const key = `${id}/${scan.scan}/${series.map((s) => s.label).join("|")}`;
  const el = $("scan-plot");
  const width = Math.max(300, el.clientWidth || 700);
  if (!scanPlot || key !== scanPlotKey) {
    if (scanPlot) scanPlot.destroy();
    scanPlot = makePlot(el, series, scan.kind, width, 340, false);
    scanPlotKey = key;
  } else {
    scanPlot.setData(joinXY(series));
  }
  text("scan-name", `${scan.scan} (${scan.label || scan.kind}, ${scan.status || ""})`);
  text("points", `${scan.n_points} points of ${scan.total || "?"}`);
  const fit = data.fit || {};
  if (fit.ok) {
    text("fit-model", `${fit.model}:`);
    text("fit-width-name", fit.width_name);
    text("fit-width", fit.width_text || pm(fit.width, fit.width_err, fit.units));
    text("fit-center", fit.center_text || pm(fit.center, fit.center_err, fit.units));
    text("fit-note", `(${fit.n_points} points)`);
  } else {
    text("fit-width", "-"); text("fit-center", "-"); text("fit-note", fit.reason || "");
  }
}

function showLock(lock) {
  const locked = lock.locked;
  const el = $("lock-state");
  el.className = `badge ${locked === true ? "locked" : locked === false ? "unlocked" : ""}`;
  el.textContent = locked === true ? "locked" : locked === false ? "NOT locked" : lock.engaged ? "?" : "servo off";
  text("lock-error", lock.error_V != null ? `${fmt(lock.error_V)} V` : "-");
  text("lock-control", lock.control_V != null ? `${fmt(lock.control_V)} V` : "-");
  const t = lock.time_s || [];
  const data = [t, lock.strip_error_V || [], lock.strip_control_V || []];
  const box = $("lock-plot");
  if (!lockPlot) {
    lockPlot = new uPlot({
      width: Math.max(250, box.clientWidth || 350), height: 180, scales: { x: { time: false } },
      axes: [{ label: "lab time (s)", size: 35 }, { label: "error (V)", scale: "e", size: 65, values: ticks },
             { label: "control (V)", scale: "c", side: 1, size: 65, grid: { show: false }, values: ticks }],
      series: [{}, { label: "error", stroke: COLORS.error, scale: "e" }, { label: "control", stroke: COLORS.control, scale: "c" }],
    }, data, box);
  } else lockPlot.setData(data);
}

// ---------------------------------------------------------------- finished scans
async function refreshSmallPlots(id, scans, live) {
  const closed = (scans || []).filter((s) => s.closed);
  const shown = live ? closed.slice(-4) : closed.slice(-48);
  const box = $("small-plots");
  const want = shown.map((s) => `${id}/${s.file}`).join(",");
  if (box.dataset.shown === want) return;
  const figures = [];
  for (const s of shown) {
    const key = `${id}/${s.file}`;
    if (!smallCache.has(key)) {
      try { smallCache.set(key, await getJSON(`/api/runs/${id}/scans/${encodeURIComponent(s.file)}`)); }
      catch (err) { smallCache.set(key, { error: String(err.message || err), file: s.file }); }
    }
    figures.push(smallFigure(smallCache.get(key)));
  }
  box.replaceChildren(...(figures.length ? figures : [document.createTextNode("none yet")]));
  box.dataset.shown = want;
}

function smallFigure(d) {
  const fig = document.createElement("figure");
  const cap = document.createElement("figcaption");
  if (d.error) { cap.textContent = `${d.file}: ${d.error}`; fig.append(cap); return fig; }
  const plot = document.createElement("div");
  fig.append(plot, cap);
  const fit = d.fit && d.fit.ok ? `${d.fit.width_name} ${d.fit.width_text || pm(d.fit.width, d.fit.width_err, d.fit.units)}` : "";
  cap.textContent = `${d.file} (${d.status}, ${d.n_points} points) ${fit}`;
  const series = scanSeries(d.kind, d.columns || {}, d.fit);
  if (series.length) makePlot(plot, series, d.kind, 260, 150, true);
  return fig;
}

// ---------------------------------------------------------------- analysis report
function showReport(report) {
  const card = $("report-card");
  card.hidden = !report;
  if (!report || card.dataset.shown === report.created_utc) return;
  card.dataset.shown = report.created_utc;
  text("report-dir", `${report.dir} (${report.created_utc || ""})`);
  $("report-numbers").tBodies[0].replaceChildren(...(report.numbers || []).map((n) =>
    row([n.name, n.value == null ? "-" : pm(n.value, n.error, ""), n.units || ""])));
  $("report-figures").replaceChildren(...Object.entries(report.figures || {}).map(([name, path]) => {
    const img = document.createElement("img");
    img.src = "/files/" + path.split("/").map(encodeURIComponent).join("/");
    img.alt = img.title = name; img.loading = "lazy";
    return img;
  }));
  text("report-md", report.report_md || "");
}

window.addEventListener("hashchange", navigate);
navigate();
